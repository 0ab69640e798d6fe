#!/usr/bin/env node
'use strict';
// Thin launcher: the CLI is compiled TypeScript under dist/.
const path = require('node:path');
const fs = require('node:fs');
const entry = path.join(__dirname, '..', 'dist', 'shared', 'cli', 'main.js');
if (!fs.existsSync(entry)) {
  process.stderr.write('ringkeeper: not built yet; run "npm run build" in ' + path.join(__dirname, '..') + '\n');
  process.exit(2);
}
require(entry)
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
