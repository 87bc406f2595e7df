// What every test gets: the URLs of its project's deployment, and the steps a person takes
// (by roles and labels, as a screen reader would find them; never by CSS).
import { test as base, expect, type Page, type TestInfo } from '@playwright/test';

import { type Adapter, type Deployment, key, type Profile, readStack, type Scheme } from './stack';

export { expect };

export interface Options {
  adapter: Adapter;
  deployment: Deployment;
  scheme: Scheme;
}

export interface Site {
  /** The client's URL for an API configured as `profile`. */
  app(profile?: Profile): string;
  /** The origin the page calls the API on. */
  api(profile?: Profile): string;
}

export const test = base.extend<Options & { site: Site }>({
  adapter: ['axum', { option: true }],
  deployment: ['same-origin', { option: true }],
  scheme: ['http', { option: true }],
  timezoneId: 'UTC',
  site: async ({ adapter, deployment, scheme }, use) => {
    const stack = readStack();
    const lookup = (table: Record<string, string>, profile: Profile) => {
      const value = table[key(adapter, deployment, scheme, profile)];
      if (!value) throw new Error(`no ${profile} server for ${adapter} ${deployment} ${scheme}`);
      return value;
    };
    await use({
      app: (profile = 'main') => lookup(stack.apps, profile),
      api: (profile = 'main') => lookup(stack.apis, profile),
    });
  },
});

export const PASSWORD = 'correct horse battery staple';

/** An email no other test (or run) uses. */
export function uniqueEmail(testInfo: TestInfo): string {
  const slug = `${testInfo.project.name}-${testInfo.title}`.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  return `${slug.slice(0, 40)}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}@example.com`;
}

/** Opens the client and creates an account; the task screen shows. */
export async function register(page: Page, url: string, email: string, name = 'Ada'): Promise<void> {
  await page.goto(url);
  await page.getByRole('button', { name: 'Create an account' }).click();
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByText(`Signed in as ${name}`)).toBeVisible();
}

/** Signs in from the sign-in form. */
export async function signIn(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

export interface NewTask {
  title: string;
  priority?: 'low' | 'medium' | 'high';
  /** `YYYY-MM-DDTHH:MM`, UTC (the tests' browser runs in UTC). */
  due?: string;
  tags?: string;
}

/** Fills the new-task form, submits it with Enter, and waits for the saved task. */
export async function addTask(page: Page, task: NewTask): Promise<void> {
  const form = page.getByRole('form', { name: 'New task' });
  await form.getByLabel('Title').fill(task.title);
  if (task.priority) await form.getByLabel('Priority').selectOption(task.priority);
  if (task.due) await form.getByLabel('Due').fill(task.due);
  if (task.tags) await form.getByLabel('Tags').fill(task.tags);
  await form.getByLabel('Title').press('Enter');
  await expect(taskCheckbox(page, task.title)).toBeVisible();
}

/** The completion checkbox of the saved task titled `title` (pending ones have none). */
export function taskCheckbox(page: Page, title: string) {
  return page.getByRole('list', { name: 'Tasks' }).getByRole('checkbox', { name: title, exact: true });
}

/** The list item of the saved task titled `title`. */
export function taskItem(page: Page, title: string) {
  return page
    .getByRole('list', { name: 'Tasks' })
    .getByRole('listitem')
    .filter({ has: page.getByRole('checkbox', { name: title, exact: true }) });
}

/** The titles of the listed tasks, in order. */
export function listedTitles(page: Page) {
  return page.getByRole('list', { name: 'Tasks' }).getByRole('checkbox');
}

/** Waits until the overview shows these counts. */
export async function expectStats(
  page: Page,
  stats: { total: number; open: number; done: number; overdue: number },
): Promise<void> {
  const overview = page.getByRole('region', { name: 'Overview' });
  await expect(overview.getByRole('term')).toHaveText(['Total', 'Open', 'Done', 'Overdue']);
  await expect(overview.getByRole('definition')).toHaveText(
    [stats.total, stats.open, stats.done, stats.overdue].map(String),
  );
}

/** A day `days` from now, as `YYYY-MM-DD` (UTC). */
export function day(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

/** An instant `days` from now at 12:00 UTC, as a `datetime-local` value. */
export function noon(days: number): string {
  return `${day(days)}T12:00`;
}

/** Every API answer the page receives (preflights left out), as `METHOD /path status`. */
export function recordApi(page: Page, apiOrigin: string): { method: string; path: string; status: number }[] {
  const log: { method: string; path: string; status: number }[] = [];
  page.on('response', (response) => {
    const url = new URL(response.url());
    const method = response.request().method();
    if (url.origin === apiOrigin && url.pathname.startsWith('/api/') && method !== 'OPTIONS') {
      log.push({ method, path: url.pathname, status: response.status() });
    }
  });
  return log;
}
