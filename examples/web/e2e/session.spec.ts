// A session longer than its access token: concurrent requests that meet the expired token
// share one refresh and are retried; a reload after the expiry; a session ended elsewhere.
import type { Page } from '@playwright/test';

import { ACCESS_TTL_SHORT_SECS } from './stack';
import { addTask, expect, recordApi, register, signIn, type Site, taskCheckbox, test, uniqueEmail } from './fixtures';

/**
 * Signs a new user in on the short-lived-token server, adds `title`, and waits (a bounded
 * poll) until the access token's expiry, as the server states it, has passed.
 */
async function outliveTheAccessToken(page: Page, site: Site, email: string, title: string): Promise<void> {
  await register(page, site.app('short'), email);
  await page.getByRole('button', { name: 'Sign out' }).click();
  // The stated expiry, moved on by any refresh that happens before the wait ends.
  let expiresAt = Number.NaN;
  page.on('response', async (response) => {
    const path = new URL(response.url()).pathname;
    if ((path === '/api/v1/auth/login' || path === '/api/v1/auth/refresh') && response.status() === 200) {
      const stated = Date.parse((await response.json()).access_expires_at);
      expiresAt = Number.isNaN(expiresAt) ? stated : Math.max(expiresAt, stated);
    }
  });
  await signIn(page, email);
  await addTask(page, { title });
  await expect.poll(() => Number.isNaN(expiresAt)).toBe(false);
  await expect
    .poll(() => Date.now() > expiresAt, { timeout: (ACCESS_TTL_SHORT_SECS + 10) * 1000, intervals: [200] })
    .toBe(true);
}

test('an expired access token is refreshed once for concurrent requests, which are retried @https', async ({ page, site }, testInfo) => {
  await outliveTheAccessToken(page, site, uniqueEmail(testInfo), 'Outlive the token');

  const api = recordApi(page, site.api('short'));
  await page.getByRole('button', { name: 'Refresh' }).click(); // the list and the stats at once
  const reads = (status: number) =>
    api.filter((a) => a.method === 'GET' && a.status === status).map((a) => a.path).sort();
  await expect.poll(() => reads(200)).toEqual(['/api/v1/tasks', '/api/v1/tasks/stats']);
  expect(reads(401)).toEqual(['/api/v1/tasks', '/api/v1/tasks/stats']);
  expect(api.filter((a) => a.path === '/api/v1/auth/refresh')).toEqual([
    { method: 'POST', path: '/api/v1/auth/refresh', status: 200 },
  ]);
  await expect(taskCheckbox(page, 'Outlive the token')).toBeVisible();
  await expect(page.getByText('Could not load')).toHaveCount(0);

  // The refreshed session writes (with the CSRF token of the refresh answer).
  await addTask(page, { title: 'After the refresh' });
  expect(api.filter((a) => a.path === '/api/v1/auth/refresh')).toHaveLength(1);
});

test('a reload after the access token expired resumes the session, on one origin or across origins', async ({ page, site }, testInfo) => {
  await outliveTheAccessToken(page, site, uniqueEmail(testInfo), 'Survive the reload');
  const api = recordApi(page, site.api('short'));
  await page.reload();
  // GET /auth/csrf answers from the refresh cookie (a page on another origin cannot read the
  // CSRF cookie), the account request meets the expired token, one refresh, one retry.
  await expect(taskCheckbox(page, 'Survive the reload')).toBeVisible();
  expect(api.slice(0, 4)).toEqual([
    { method: 'GET', path: '/api/v1/auth/csrf', status: 200 },
    { method: 'GET', path: '/api/v1/auth/me', status: 401 },
    { method: 'POST', path: '/api/v1/auth/refresh', status: 200 },
    { method: 'GET', path: '/api/v1/auth/me', status: 200 },
  ]);
  await addTask(page, { title: 'Written after the reload' });
});

test('a session ended in another tab leads back to sign-in, said on screen', async ({ page, context, site }, testInfo) => {
  await register(page, site.app(), uniqueEmail(testInfo));
  await addTask(page, { title: 'Still here' });
  const other = await context.newPage();
  await other.goto(site.app());
  await other.getByRole('button', { name: 'Sign out' }).click();
  await expect(other.getByRole('heading', { name: 'Sign in' })).toBeVisible();

  await page.getByRole('button', { name: 'Refresh' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await expect(page.getByText('Your session has ended. Please sign in again.')).toBeVisible();
  await expect(page.getByText('Still here')).toHaveCount(0);
});
