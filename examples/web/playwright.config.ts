// End-to-end tests in a real browser: Debian's Chromium (no browser download), against both
// example servers in both deployments, and one HTTPS run with production's cookies.
// `npm run test:e2e` (after `cargo build --examples` and `npm run build`); see e2e/stack.ts.
import { defineConfig } from '@playwright/test';

import type { Options } from './e2e/fixtures';

const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  // Without these, Chromium's own background connections are refused by a closed network.
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Every *.taskflow.test host is this machine: real origins, no /etc/hosts.
  '--host-resolver-rules=MAP *.taskflow.test 127.0.0.1',
];

const projects = (['axum', 'warp'] as const).flatMap((adapter) =>
  (['same-origin', 'cross-origin'] as const).map((deployment) => ({
    name: `${adapter} ${deployment}`,
    use: { adapter, deployment, scheme: 'http' as const },
  })),
);

export default defineConfig<Options>({
  testDir: './e2e',
  outputDir: '../../target/e2e/results',
  globalSetup: './e2e/global-setup.ts',
  fullyParallel: true,
  workers: Number(process.env.TASKFLOW_E2E_WORKERS ?? 2),
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [
    ['list'],
    ['html', { outputFolder: '../../target/e2e/report', open: 'never' }],
    ['json', { outputFile: '../../target/e2e/results.json' }],
  ],
  use: {
    launchOptions: {
      executablePath: process.env.TASKFLOW_E2E_CHROMIUM ?? '/usr/bin/chromium',
      args: chromiumArgs,
    },
    viewport: { width: 1100, height: 900 },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  projects: [
    ...projects,
    {
      // The tests tagged @https, with `Secure` `__Host-`/`__Secure-` cookies over TLS that the
      // API terminates itself (a self-signed certificate).
      name: 'axum cross-origin https',
      grep: /@https/,
      use: {
        adapter: 'axum',
        deployment: 'cross-origin',
        scheme: 'https',
        ignoreHTTPSErrors: true,
        launchOptions: {
          executablePath: process.env.TASKFLOW_E2E_CHROMIUM ?? '/usr/bin/chromium',
          args: [...chromiumArgs, '--ignore-certificate-errors'],
        },
      },
    },
  ],
});
