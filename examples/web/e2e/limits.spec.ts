// 429: the client says how long to wait, as the server's Retry-After says.
import { API_RATE_LIMITED_PER_MIN } from './stack';
import { expect, register, taskCheckbox, test, uniqueEmail } from './fixtures';

test('a rate-limited user is told how long to wait (Retry-After)', async ({ page, site }, testInfo) => {
  await register(page, site.app('limited'), uniqueEmail(testInfo));
  const retryAfter: number[] = [];
  page.on('response', (response) => {
    if (response.status() === 429) retryAfter.push(Number(response.headers()['retry-after']));
  });
  const told = page.getByText(/Too many requests\. Try again in \d+ s\./).first();
  const form = page.getByRole('form', { name: 'New task' });
  // Each task is three requests (create, then the list and the stats again): the quota runs
  // out within API_RATE_LIMITED_PER_MIN / 3 tasks.
  for (let i = 1; i <= API_RATE_LIMITED_PER_MIN && !(await told.isVisible()); i++) {
    await form.getByLabel('Title').fill(`Task ${i}`);
    await form.getByLabel('Title').press('Enter');
    await expect(taskCheckbox(page, `Task ${i}`).or(told)).toBeVisible();
    await expect(page.getByRole('region', { name: 'Tasks' })).toHaveAttribute('aria-busy', 'false');
  }
  await expect(told).toBeVisible();
  const seconds = Number(/in (\d+) s/.exec((await told.textContent()) ?? '')?.[1]);
  expect(retryAfter.length).toBeGreaterThan(0);
  expect(retryAfter).toContain(seconds);
  expect(seconds).toBeGreaterThan(0);
});
