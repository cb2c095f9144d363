#!/usr/bin/env node
// The package's command line; `npm run build` compiles it into dist/.
require('../dist/src/cli/main.js').run(process.argv.slice(2));
