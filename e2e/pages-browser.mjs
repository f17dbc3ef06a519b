// Browser helpers for e2e/pages.test.mjs and e2e/desk-pages.test.mjs: one Chromium per test file, one
// context per simulated person (so sessionStorage and network state are
// their own), waits with deadlines only.

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './harness.mjs';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 800 };
export const SHOTS_DIR = path.join(repoRoot, 'artifacts', 'screenshots');
export const LIVE_MS = 15_000; // connect (and upgrade) after a page load
export const PUSH_MS = 5_000; // a change reaches an open page

export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * A page in a fresh context. Records uncaught page errors, console errors,
 * CSP violations and dialogs (a dialog is a failed XSS check: it is
 * recorded and dismissed).
 */
export async function openPage(browser, url, { viewport = DESKTOP, colorScheme = 'light' } = {}) {
  const context = await browser.newContext({ viewport, colorScheme, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const rec = { pageErrors: [], consoleErrors: [], dialogs: [], csp: [] };
  page.on('pageerror', (err) => rec.pageErrors.push(String(err && err.stack ? err.stack : err)));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    if (/Content[- ]Security[- ]Policy/i.test(text)) rec.csp.push(text);
    rec.consoleErrors.push(text);
  });
  page.on('dialog', (d) => {
    rec.dialogs.push(`${d.type()}: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  if (url) await page.goto(url, { waitUntil: 'domcontentloaded' });
  return { page, context, rec };
}

/** Fails when the page threw, broke the CSP or opened a dialog. */
export function assertClean(p, { allowConsoleErrors = false } = {}) {
  const problems = [];
  if (p.rec.pageErrors.length) problems.push(`page errors: ${p.rec.pageErrors.join('\n')}`);
  if (p.rec.csp.length) problems.push(`CSP violations: ${p.rec.csp.join('\n')}`);
  if (p.rec.dialogs.length) problems.push(`dialogs: ${p.rec.dialogs.join('\n')}`);
  if (!allowConsoleErrors && p.rec.consoleErrors.length) problems.push(`console errors: ${p.rec.consoleErrors.join('\n')}`);
  if (problems.length) throw new Error(problems.join('\n'));
}

/** Waits until the text of `selector` matches `re` (a RegExp) or equals `re` (a string). */
export async function waitText(page, selector, re, timeout = 5000) {
  const isRe = re instanceof RegExp;
  try {
    await page.waitForFunction(
      ([sel, src, flags, exact]) => {
        const el = document.querySelector(sel);
        if (!el) return false;
        const t = el.textContent;
        return exact !== null ? t === exact : new RegExp(src, flags).test(t);
      },
      [selector, isRe ? re.source : '', isRe ? re.flags : '', isRe ? null : re],
      { timeout, polling: 50 },
    );
  } catch (err) {
    const now = await page.locator(selector).first().textContent({ timeout: 500 }).catch(() => '(missing)');
    throw new Error(`waitText: ${selector} did not show ${re} within ${timeout} ms (now: ${JSON.stringify(now)})`);
  }
}

/** Waits until `selector` matches at least one element (state 'attached' by default). */
export async function waitSel(page, selector, timeout = 5000, state = 'attached') {
  try {
    await page.locator(selector).first().waitFor({ state, timeout });
  } catch {
    throw new Error(`waitSel: no ${selector} (${state}) within ${timeout} ms`);
  }
}

export function shotPath(name) {
  mkdirSync(SHOTS_DIR, { recursive: true });
  return path.join(SHOTS_DIR, name);
}

/** The tracking page of a created order on srv (trackingUrl may be absolute or a path). */
export function trackingHref(srv, created) {
  const u = new URL(created.trackingUrl, srv.url);
  return srv.url + u.pathname + u.search;
}

/**
 * The pages one test file opens, each in a context of its own:
 *   open(url, opts), closeAll(...pages), closeEverything() (in `after`),
 *   openTracking(srv, created, opts): live and showing seq 1 (opts.live: the #conn text awaited),
 *   openSupport(srv, staffToken, opts): signed in with a #token= link, board shown, live.
 * browser() gives the Browser (launched in the file's `before`).
 */
export function pageSet(browser) {
  const opened = [];
  async function open(url, opts) {
    const p = await openPage(browser(), url, opts);
    opened.push(p);
    return p;
  }
  async function closeAll(...ps) {
    for (const p of ps) {
      await p.context.close().catch(() => {});
      const i = opened.indexOf(p);
      if (i >= 0) opened.splice(i, 1);
    }
  }
  return {
    open,
    closeAll,
    closeEverything: () => closeAll(...opened),
    async openTracking(srv, created, opts = {}) {
      const p = await open(trackingHref(srv, created), opts);
      await waitText(p.page, '#conn', opts.live ?? /^live \(/, LIVE_MS);
      await waitSel(p.page, '#timeline li[data-seq="1"]', PUSH_MS);
      return p;
    },
    async openSupport(srv, token, opts = {}) {
      const p = await open(`${srv.url}/support#token=${encodeURIComponent(token)}`, opts);
      await waitSel(p.page, '#board', PUSH_MS, 'visible');
      await waitText(p.page, '#conn', /^live \(/, LIVE_MS);
      return p;
    },
  };
}
