// Two tabs of one user: a change based on a version the server no longer has is refused (412,
// If-Match); the tab rolls its optimistic change back, refetches, and says so.
import { addTask, expect, recordApi, register, taskCheckbox, test, uniqueEmail } from './fixtures';

test('a change from a stale tab is refused (412), rolled back, refetched, and said', async ({ page, context, site }, testInfo) => {
  await register(page, site.app(), uniqueEmail(testInfo));
  await addTask(page, { title: 'Draft the plan' });

  const other = await context.newPage();
  await other.goto(site.app());
  await other.getByRole('button', { name: 'Edit Draft the plan' }).click();
  const form = other.getByRole('form', { name: 'Edit Draft the plan' });
  await form.getByLabel('Title').fill('Draft the final plan');
  const saved = other.waitForResponse((r) => r.request().method() === 'PATCH');
  await form.getByLabel('Title').press('Enter');
  expect((await saved).status()).toBe(200);

  // The first tab still shows version 1, and completes it.
  const api = recordApi(page, site.api());
  await taskCheckbox(page, 'Draft the plan').click();
  await expect(page.getByText('“Draft the plan” was changed elsewhere (another tab or device), so your change was not saved. The latest version is shown.')).toBeVisible();
  await expect(taskCheckbox(page, 'Draft the final plan')).toBeVisible();
  await expect(taskCheckbox(page, 'Draft the final plan')).not.toBeChecked();
  await expect(taskCheckbox(page, 'Draft the plan')).toHaveCount(0);
  expect(api.filter((a) => a.method === 'PATCH').map((a) => a.status)).toEqual([412]);

  // The refetched version can be changed.
  await taskCheckbox(page, 'Draft the final plan').click();
  await expect.poll(() => api.filter((a) => a.method === 'PATCH').map((a) => a.status)).toEqual([412, 200]);
  await page.getByRole('button', { name: 'Dismiss message' }).click();
  await expect(page.getByText('was changed elsewhere')).toHaveCount(0);
});
