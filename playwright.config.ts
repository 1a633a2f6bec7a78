import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, findChromium } from './tests/e2e/findChromium';

const PORT = Number(process.env.E2E_PORT ?? 3107);
// A fresh data directory per run: tests never see each other's documents from earlier runs.
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'concord-e2e-'));
// Removed when this process ends (the web server it started is stopped by then).
process.once('exit', () => fs.rmSync(dataDir, { recursive: true, force: true }));

export default defineConfig({
  testDir: 'tests/e2e',
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: process.env.CI ? 1 : 0,
  forbidOnly: true,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    launchOptions: { executablePath: findChromium(), args: CHROMIUM_ARGS },
    trace: 'retain-on-failure',
  },
  webServer: {
    // `npm start` builds the web app first when needed, exactly as a user's first start does.
    command: 'npm start',
    url: `http://127.0.0.1:${PORT}/healthz`,
    env: { PORT: String(PORT), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
    reuseExistingServer: false,
    timeout: 300_000,
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
