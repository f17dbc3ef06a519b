// Browser helpers for e2e/pages.test.mjs: one Chromium per test file, one
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
