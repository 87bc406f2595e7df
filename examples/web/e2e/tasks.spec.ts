// Tasks: create, edit, complete and delete (on screen before the server answers, with
// If-Match), the stats, the filters, sorting and "Load more".
import { mkdirSync } from 'node:fs';
import path from 'node:path';

import {
  addTask,
  day,
  expect,
  expectStats,
  listedTitles,
  type NewTask,
  noon,
  recordApi,
  register,
  signIn,
  taskCheckbox,
  taskItem,
  test,
  uniqueEmail,
} from './fixtures';
import { OUT } from './stack';

test('create, edit, complete and delete: optimistic, with If-Match, and the stats follow @https', async ({ page, site }, testInfo) => {
  await register(page, site.app(), uniqueEmail(testInfo));
  await expectStats(page, { total: 0, open: 0, done: 0, overdue: 0 });
  await addTask(page, { title: 'Water the plants', priority: 'high', tags: 'home', due: noon(-1) });
  await expectStats(page, { total: 1, open: 1, done: 0, overdue: 1 });
  const item = taskItem(page, 'Water the plants');
  await expect(item).toContainText('high');
  await expect(item).toContainText('#home');
  await expect(item).toContainText('Overdue');

  // Hold the server's answers to changes until the screen has been checked.
  const held: { method: string; ifMatch: string | undefined; release: () => void }[] = [];
  await page.route(/\/api\/v1\/tasks\/[^/]+$/, async (route) => {
    const request = route.request();
    if (request.method() === 'PATCH' || request.method() === 'DELETE') {
      await new Promise<void>((release) =>
        held.push({ method: request.method(), ifMatch: request.headers()['if-match'], release }),
      );
    }
    await route.continue();
  });

  await taskCheckbox(page, 'Water the plants').click();
  await expect.poll(() => held.length).toBe(1);
  await expect(taskCheckbox(page, 'Water the plants')).toBeChecked(); // before the answer
  expect(held[0]).toMatchObject({ method: 'PATCH', ifMatch: '"v1"' });
  held[0]!.release();
  await expectStats(page, { total: 1, open: 0, done: 1, overdue: 0 });

  await page.getByRole('button', { name: 'Edit Water the plants' }).click();
  const edit = page.getByRole('form', { name: 'Edit Water the plants' });
  await edit.getByLabel('Title').fill('Water the garden');
  await edit.getByLabel('Tags').fill('home, garden');
  await edit.getByRole('button', { name: 'Save' }).click();
  await expect.poll(() => held.length).toBe(2);
  await expect(taskCheckbox(page, 'Water the garden')).toBeVisible(); // before the answer
  expect(held[1]).toMatchObject({ method: 'PATCH', ifMatch: '"v2"' });
  held[1]!.release();
  const edited = taskItem(page, 'Water the garden');
  await expect(edited).toContainText('#garden');
  await expect(taskCheckbox(page, 'Water the garden')).toBeChecked();

  await page.getByRole('button', { name: 'Delete Water the garden' }).click();
  await expect.poll(() => held.length).toBe(3);
  await expect(taskCheckbox(page, 'Water the garden')).toHaveCount(0); // before the answer
  held[2]!.release();
  await expect(page.getByText('No tasks here.')).toBeVisible();
  await expectStats(page, { total: 0, open: 0, done: 0, overdue: 0 });
});

test('a task created while the list is still loading shows up', async ({ page, site }, testInfo) => {
  const email = uniqueEmail(testInfo);
  await register(page, site.app(), email);
  await page.getByRole('button', { name: 'Sign out' }).click();
  // The first list answers as the server would have before the task existed (this user has
  // none), but only once the task is created: an answer from before the change, after it.
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  let lists = 0;
  await page.route(/\/api\/v1\/tasks\?/, async (route) => {
    if (route.request().method() !== 'GET' || lists++ > 0) return route.continue();
    await held;
    const origin = route.request().headers()['origin'];
    const cors: Record<string, string> = origin
      ? { 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true' }
      : {};
    await route.fulfill({ json: { items: [], next_cursor: null }, headers: cors }).catch(() => {}); // unless cancelled
  });
  await signIn(page, email);
  await expect(page.getByText('Loading tasks…')).toBeVisible();
  const created = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/api/v1/tasks'));
  const form = page.getByRole('form', { name: 'New task' });
  await form.getByLabel('Title').fill('Quick one');
  await form.getByLabel('Title').press('Enter');
  expect((await created).status()).toBe(201);
  release();
  await expect(taskCheckbox(page, 'Quick one')).toBeVisible();
  await expectStats(page, { total: 1, open: 1, done: 0, overdue: 0 });
});

test('filters, sorting, and "Load more" over next_cursor', async ({ page, site }, testInfo) => {
  await register(page, site.app(), uniqueEmail(testInfo));
  const api = recordApi(page, site.api());
  await addTask(page, { title: 'Buy milk', priority: 'high', tags: 'home, errands', due: noon(1) });
  await addTask(page, { title: 'Write the report', priority: 'low', tags: 'work', due: noon(3) });
  await addTask(page, { title: 'Call the bank', tags: 'errands', due: noon(-2) });
  await addTask(page, { title: 'Plan the trip', priority: 'low' });
  await taskCheckbox(page, 'Call the bank').click();
  await expect(taskCheckbox(page, 'Call the bank')).toBeChecked();
  const more: NewTask[] = [
    { title: 'Pay the rent', priority: 'high', tags: 'home', due: noon(-1) },
    { title: 'Book the dentist', tags: 'health' },
    { title: 'Fix the bike' },
    { title: 'Read chapter 3', tags: 'study' },
    { title: 'Clean the kitchen', tags: 'home' },
    { title: 'Reply to Sam', priority: 'high' },
    { title: 'Renew the passport', tags: 'admin' },
    { title: 'Water the plants', tags: 'home' },
  ];
  for (const task of more) await addTask(page, task);
  await expectStats(page, { total: 12, open: 11, done: 1, overdue: 1 });

  // One page is 10 tasks, newest first; "Load more" brings the other two.
  await expect(listedTitles(page)).toHaveCount(10);
  await expect(listedTitles(page).first()).toHaveAccessibleName('Water the plants');
  await page.getByRole('button', { name: 'Load more' }).click();
  await expect(listedTitles(page)).toHaveCount(12);
  await expect(listedTitles(page).last()).toHaveAccessibleName('Buy milk');
  await expect(page.getByRole('button', { name: 'Load more' })).toHaveCount(0);
  const pages = api.filter((a) => a.method === 'GET' && a.path === '/api/v1/tasks');
  expect(pages.length).toBeGreaterThanOrEqual(2);

  const filters = page.getByRole('form', { name: 'Filters' });
  const titles = () => listedTitles(page);

  await filters.getByLabel('Search').fill('MILK');
  await filters.getByLabel('Search').press('Enter');
  await expectTitles(page, ['Buy milk']);
  await filters.getByLabel('Search').fill('');
  await filters.getByLabel('Tag').fill('errands');
  await filters.getByLabel('Tag').press('Enter');
  await expectTitles(page, ['Call the bank', 'Buy milk']);
  await filters.getByLabel('Status').selectOption('Open');
  await expectTitles(page, ['Buy milk']);
  await filters.getByLabel('Status').selectOption('Done');
  await expectTitles(page, ['Call the bank']);
  await filters.getByRole('button', { name: 'Clear' }).click();
  await expect(titles()).toHaveCount(12); // the unfiltered list, both pages, from the cache

  await filters.getByLabel('Priority').selectOption('Low');
  await expectTitles(page, ['Plan the trip', 'Write the report']);
  await filters.getByRole('button', { name: 'Clear' }).click();

  await filters.getByLabel('Due after').fill(day(0));
  await expectTitles(page, ['Write the report', 'Buy milk']);
  await filters.getByLabel('Due before').fill(day(2));
  await expectTitles(page, ['Buy milk']);
  await filters.getByRole('button', { name: 'Clear' }).click();

  // Due soonest: dated tasks first, undated after them.
  await filters.getByLabel('Sort').selectOption('Due soonest');
  await expect(titles().nth(0)).toHaveAccessibleName('Call the bank');
  await expect(titles().nth(1)).toHaveAccessibleName('Pay the rent');
  await expect(titles().nth(2)).toHaveAccessibleName('Buy milk');
  await expect(titles().nth(3)).toHaveAccessibleName('Write the report');
  await expect(titles()).toHaveCount(10);
  // The task list as a person sees it (docs/web-client.png is one of these).
  const dir = path.join(OUT, 'screenshots');
  mkdirSync(dir, { recursive: true });
  await page.mouse.move(0, 0);
  await page.screenshot({ path: path.join(dir, `task-list ${testInfo.project.name}.png`) });

  await filters.getByLabel('Sort').selectOption('Oldest first');
  await expect(titles().nth(0)).toHaveAccessibleName('Buy milk');
  await filters.getByRole('button', { name: 'Clear' }).click();
  await expect(titles().first()).toHaveAccessibleName('Water the plants');
});

async function expectTitles(page: import('@playwright/test').Page, titles: string[]): Promise<void> {
  const boxes = listedTitles(page);
  await expect(boxes).toHaveCount(titles.length);
  for (const [i, title] of titles.entries()) await expect(boxes.nth(i)).toHaveAccessibleName(title);
}
