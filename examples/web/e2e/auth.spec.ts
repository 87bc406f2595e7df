// Accounts and sessions: register, sign out, sign in (and its errors), and a reload that keeps
// the session, which works only if the client finds its CSRF token again (GET /auth/csrf).
import { addTask, expect, PASSWORD, recordApi, register, signIn, taskCheckbox, test, uniqueEmail } from './fixtures';

test('register, sign out, and sign in again, with the errors said on screen @https', async ({ page, site }, testInfo) => {
  const email = uniqueEmail(testInfo);
  await register(page, site.app(), email);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();

  await signIn(page, email, 'not the password');
  await expect(page.getByRole('alert').filter({ hasText: 'Wrong email or password.' })).toBeVisible();

  await page.getByRole('button', { name: 'Create an account' }).click();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'An account with this email already exists.' })).toBeVisible();

  await page.getByRole('button', { name: 'Sign in' }).click();
  await signIn(page, email);
  await expect(page.getByText('Signed in as Ada')).toBeVisible();
  await expect(page.getByText('No tasks here.')).toBeVisible();
});

test('a reload keeps the session, and writes still pass the CSRF check @https', async ({ page, site }, testInfo) => {
  await register(page, site.app(), uniqueEmail(testInfo));
  await addTask(page, { title: 'Before the reload' });
  const api = recordApi(page, site.api());

  await page.reload();
  await expect(taskCheckbox(page, 'Before the reload')).toBeVisible();
  expect(api).toContainEqual({ method: 'GET', path: '/api/v1/auth/csrf', status: 200 });
  // The token came back from the body: an unsafe request passes the CSRF check.
  await addTask(page, { title: 'After the reload' });
  expect(api).toContainEqual({ method: 'POST', path: '/api/v1/tasks', status: 201 });
  expect(api.filter((a) => a.status === 403)).toEqual([]);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  expect(api.at(-1)).toEqual({ method: 'GET', path: '/api/v1/auth/csrf', status: 401 });
});
