// Golden files (firewall4's tests' habit): for each test/fixtures/render/<case>
// the whole ruleset and the whole list of diagnostics are expected, from
// the case's UCI config, a genuine fw4 firewall config and a network config.
// UPDATE_GOLDEN=1 rewrites the expectations (then read the diff).

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { readConfig } from '../../firmware/core/config.ts';
import { formatDiagnostic } from '../../firmware/core/diag.ts';
import type { HelperState } from '../../firmware/core/model.ts';
import { plan } from '../../firmware/core/plan.ts';
import { render } from '../../firmware/core/render.ts';
import { parseUci } from '../../firmware/core/uci/parse.ts';
import { firewallZones, networkDevices, resolveZones } from '../../firmware/core/zones.ts';
import { OWN, own, shared } from '../lib/fixtures.ts';

const CASES = join(OWN, 'render');
const update = process.env.UPDATE_GOLDEN === '1';

export function renderCase(dir: string): { nft: string; diag: string } {
  const extra = existsSync(join(dir, 'case.json')) ? (JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as { helper?: HelperState }) : {};
  const { config, diagnostics } = readConfig(parseUci(readFileSync(join(dir, 'vpn-passthrough'), 'utf8')));
  const zones = resolveZones(config, firewallZones(parseUci(shared('fw4/upstream-default.firewall.uci'))), networkDevices(parseUci(own('network'))));
  const planned = plan(config, zones.devices, extra.helper ?? 'builtin');
  const all = [...diagnostics, ...(config.enabled ? zones.diagnostics : []), ...planned.diagnostics];

  return { nft: render(planned.plan), diag: all.map(formatDiagnostic).join('\n') + (all.length ? '\n' : '') };
}

for (const name of readdirSync(CASES).sort()) {
  test(`render: ${name}`, () => {
    const dir = join(CASES, name);
    const got = renderCase(dir);

    for (const [file, text] of [['expect.nft', got.nft], ['expect.diag', got.diag]] as const) {
      const path = join(dir, file);

      if (update) writeFileSync(path, text);
      assert.ok(existsSync(path), `${path} is missing: run with UPDATE_GOLDEN=1 and review it`);
      assert.fixture(text, readFileSync(path, 'utf8'), `${name}/${file}`);
    }
  });
}

test('the default config renders short enough to read at a glance', () => {
  assert.ok(renderCase(join(CASES, "default")).nft.split("\n").length <= 80);
});

test.run();
