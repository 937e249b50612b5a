// Bundles the firmware into ONE minified ESM file for txiki.js and proves it
// needs nothing from Node: no Node built-in may be imported, and no Node
// global (process, Buffer, require, ...) may be referenced.
//
//   node build/bundle.mjs [outfile [entry]]   (default dist/vpn-passthrough.js)

import { builtinModules } from 'node:module';
import { join } from 'node:path';

import * as esbuild from 'esbuild';

import { DIST, ROOT, VERSION } from './common.mjs';

// Every free reference to one of these is renamed to a marker that cannot
// occur otherwise; finding a marker in the output fails the build. esbuild's
// `define` touches only unbound identifiers, never strings or properties.
const NODE_GLOBALS = ['process', 'Buffer', 'require', 'module', 'exports', '__dirname', '__filename', 'global', 'setImmediate'];
const MARK = '__NODE_GLOBAL_IN_TJS_BUNDLE__';

const nodeBuiltins = {
  name: 'no-node-builtins',
  setup(build) {
    const names = new Set(builtinModules);

    build.onResolve({ filter: /.*/ }, (args) => {
      const bare = args.path.replace(/^node:/, '').split('/')[0];

      if (args.path.startsWith('node:') || names.has(bare)) {
        return { errors: [{ text: `Node built-in '${args.path}' imported by ${args.importer}: it does not exist on the router (tjs)` }] };
      }

      return undefined;
    });
  },
};

export async function bundle(outfile = join(DIST, 'vpn-passthrough.js'), entry = join(ROOT, 'firmware/main.tjs.ts')) {
  const result = await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2023',
    minify: true,
    legalComments: 'none',
    charset: 'utf8',
    metafile: true,
    logLevel: 'warning',
    define: {
      __VERSION__: JSON.stringify(VERSION),
      ...Object.fromEntries(NODE_GLOBALS.map((name) => [name, `${MARK}${name}`])),
    },
    plugins: [nodeBuiltins],
  });
  const output = Object.values(result.metafile.outputs)[0];

  if (output.imports.length > 0) {
    throw new Error(`the bundle imports ${output.imports.map((i) => i.path).join(', ')}: it must be self-contained`);
  }

  const text = (await import('node:fs')).readFileSync(outfile, 'utf8');
  const globals = [...new Set([...text.matchAll(new RegExp(`${MARK}(\\w+)`, 'g'))].map((m) => m[1]))];

  if (globals.length > 0) {
    throw new Error(`the bundle refers to the Node global(s) ${globals.join(', ')}, which do not exist on the router (tjs)`);
  }

  return { outfile, bytes: Buffer.byteLength(text) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  bundle(process.argv[2], process.argv[3]).then(
    ({ outfile, bytes }) => console.log(`bundle: ${outfile} (${bytes} bytes, version ${VERSION})`),
    (e) => {
      console.error(`bundle: ${e.message}`);
      process.exit(1);
    },
  );
}
