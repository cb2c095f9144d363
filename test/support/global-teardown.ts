export default async function globalTeardown(): Promise<void> {
  const handle = (globalThis as { __copydeskEmbeddedPg?: { stop(): Promise<void> } }).__copydeskEmbeddedPg;
  if (handle) await handle.stop();
}
