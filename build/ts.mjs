// Runs a TypeScript module of the build tooling (build/**/*.ts) from the .mjs
// scripts: esbuild bundles it (with its npm dependencies) in memory and Node
// imports the result, so nothing is written and no separate compile step is
// needed. tsc checks these files' types (test/tsconfig.json).

import * as esbuild from 'esbuild';

export async function importTs(entry) {
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'inline',
    logLevel: 'warning',
  });

  return import(`data:text/javascript;base64,${Buffer.from(result.outputFiles[0].contents).toString('base64')}`);
}
