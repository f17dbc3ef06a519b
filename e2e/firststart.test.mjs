// First start with nothing configured: the secrets are generated and kept
// in the data directory, and the printed staff link and curl example work
// as printed. A second start prints no secret.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { binPath, childEnv, freePort, tempDir, waitReady, waitFor, cleanup } from './harness.mjs';

after(cleanup);

const running = new Set();
after(() => { for (const p of running) p.kill('SIGKILL'); });

/** Start `ordercast serve` with only an address and a data dir. */
async function bareStart(port, dataDir) {
  const proc = spawn(binPath, ['serve', '--addr', `127.0.0.1:${port}`, '--data-dir', dataDir],
    { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(proc);
  let output = '';
  proc.stdout.on('data', (d) => { output += d; });
  proc.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => { running.delete(proc); resolve({ code, signal }); }));
  await waitReady(`http://127.0.0.1:${port}`, 10_000, () => (proc.exitCode !== null ? `exit ${proc.exitCode}: ${output}` : null));
  return { output: () => output, stop: () => { proc.kill('SIGTERM'); return exited; } };
}

test('first start: secrets kept in the data dir; the printed staff link and curl example work; a restart prints no secret', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const dataDir = tempDir();
  const first = await bareStart(port, dataDir);
  const text = await waitFor(() => first.output().includes('then open the trackingUrl') && first.output(), 5000, 'the announcement');

  // The curl example, run by a shell exactly as printed.
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.trim().startsWith('curl '));
  assert.ok(at >= 0, `no curl example in:\n${text}`);
  let cmd = '';
  for (let i = at; i < lines.length; i++) {
    const l = lines[i].trim();
    cmd += l.endsWith('\\') ? `${l.slice(0, -1)} ` : l;
    if (!l.endsWith('\\')) break;
  }
  const out = await new Promise((resolve, reject) => execFile('sh', ['-c', cmd], { timeout: 10_000 },
    (err, stdout, stderr) => (err ? reject(new Error(`${cmd}\n${stderr}`)) : resolve(stdout))));
  const created = JSON.parse(out);
  assert.ok(created.order?.id, `curl example answered ${out}`);
  assert.match(created.trackingUrl, new RegExp(`^http://127\\.0\\.0\\.1:${port}/track/`));
  const page = await fetch(created.trackingUrl);
  assert.equal(page.status, 200);

  // The staff sign-in link carries a working support token.
  const link = text.match(/staff sign-in:\s+(\S+)/)?.[1];
  assert.ok(link, 'a staff sign-in link');
  const token = new URL(link).hash.replace(/^#token=/, '');
  const list = await fetch(`http://127.0.0.1:${port}/api/orders`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(list.status, 200);
  const body = await list.json();
  assert.ok(JSON.stringify(body).includes(created.order.id), 'the staff token lists the order');

  const apiKey = text.match(/API key:\s+(\S+)/)?.[1];
  assert.ok(apiKey && apiKey.length >= 32, 'a generated API key');
  assert.equal((await first.stop()).code, 0);
  for (const f of ['api_key', 'secret']) assert.ok(existsSync(path.join(dataDir, f)), `${f} kept in the data dir`);

  // Second start on the same data dir: same key works, no secret printed.
  const second = await bareStart(port, dataDir);
  const again = await fetch(`http://127.0.0.1:${port}/api/orders`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ customer: 'Ada', items: [{ name: 'Tea', qty: 1 }], total: 100 }) });
  assert.equal(again.status, 201, 'the kept API key still works');
  assert.ok(!second.output().includes(apiKey), 'a restart prints no secret');
  assert.equal((await second.stop()).code, 0);
});
