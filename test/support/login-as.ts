import { spawn } from 'node:child_process';

/**
 * A PostgreSQL password login (startup, then SCRAM-SHA-256 or a cleartext password) in a few lines
 * of plain Node, passed to `node -e`: a child running as another OS user (`nobody`) cannot load
 * modules from a checkout it may not enter. Prints `uid <n> ok` or `uid <n> refused <SQLSTATE>`.
 */
const LOGIN = String.raw`
const net = require('node:net'), crypto = require('node:crypto');
const [port, user, password] = process.argv.slice(1);
const socket = net.connect(Number(port), '127.0.0.1');
const msg = (type, body) => { const len = Buffer.alloc(4); len.writeInt32BE(body.length + 4); return Buffer.concat([Buffer.from(type), len, body]); };
const cstr = (s) => Buffer.from(s + '\0');
let buffer = Buffer.alloc(0), nonce, clientFirstBare;
const done = (text) => { process.stdout.write('uid ' + process.getuid() + ' ' + text + '\n'); socket.destroy(); };
socket.on('connect', () => {
  const body = Buffer.concat([Buffer.from([0, 3, 0, 0]), cstr('user'), cstr(user), cstr('database'), cstr('postgres'), Buffer.from([0])]);
  const len = Buffer.alloc(4); len.writeInt32BE(body.length + 4); socket.write(Buffer.concat([len, body]));
});
socket.on('error', (e) => done('error ' + e.code));
socket.on('data', (chunk) => {
  buffer = Buffer.concat([buffer, chunk]);
  while (buffer.length >= 5 && buffer.length >= 1 + buffer.readInt32BE(1)) {
    const type = String.fromCharCode(buffer[0]), body = buffer.subarray(5, 1 + buffer.readInt32BE(1));
    buffer = buffer.subarray(1 + buffer.readInt32BE(1));
    if (type === 'E') { const code = /C([0-9A-Z]{5})/.exec(body.toString('latin1')); return done('refused ' + (code ? code[1] : '?')); }
    if (type !== 'R') continue;
    const kind = body.readInt32BE(0);
    if (kind === 0) return done('ok');
    if (kind === 3) socket.write(msg('p', cstr(password)));
    if (kind === 10) {
      nonce = crypto.randomBytes(18).toString('base64');
      clientFirstBare = 'n=,r=' + nonce;
      const first = Buffer.from('n,,' + clientFirstBare), len = Buffer.alloc(4); len.writeInt32BE(first.length);
      socket.write(msg('p', Buffer.concat([cstr('SCRAM-SHA-256'), len, first])));
    }
    if (kind === 11) {
      const serverFirst = body.subarray(4).toString();
      const f = Object.fromEntries(serverFirst.split(',').map((kv) => [kv[0], kv.slice(2)]));
      const salted = crypto.pbkdf2Sync(password, Buffer.from(f.s, 'base64'), Number(f.i), 32, 'sha256');
      const hmac = (key, text) => crypto.createHmac('sha256', key).update(text).digest();
      const clientKey = hmac(salted, 'Client Key');
      const finalBare = 'c=biws,r=' + f.r;
      const auth = clientFirstBare + ',' + serverFirst + ',' + finalBare;
      const signature = hmac(crypto.createHash('sha256').update(clientKey).digest(), auth);
      const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i])).toString('base64');
      socket.write(msg('p', Buffer.from(finalBare + ',p=' + proof)));
    }
  }
});
`;

export interface LoginAttempt {
  uid: number;
  ok: boolean;
  /** The SQLSTATE of the refusal (28P01: wrong password), or a socket error. */
  outcome: string;
}

/** Tries `user`/`password` on 127.0.0.1:`port` from a child process, as `runAs` (a uid and gid) when given. */
export function loginAs(port: number, user: string, password: string, runAs?: { uid: number; gid: number }): Promise<LoginAttempt> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', LOGIN, String(port), user, password], { cwd: '/', env: {}, ...(runAs ?? {}), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.once('error', reject);
    child.once('close', () => {
      const match = /^uid (\d+) (.*)$/m.exec(out);
      if (!match) return reject(new Error(`the login child said: ${out}`));
      resolve({ uid: Number(match[1]), ok: match[2] === 'ok', outcome: match[2] });
    });
  });
}
