// Usable without a mouse: every control has a label, the focus is visible, Enter submits,
// Escape cancels an edit, and the focus goes where the user expects.
import type { Locator, Page } from '@playwright/test';

import { expect, PASSWORD, taskCheckbox, test, uniqueEmail } from './fixtures';

/** Presses Tab until `target` has the focus (bounded: it must be reachable). */
async function tabTo(page: Page, target: Locator): Promise<void> {
  for (let i = 0; i < 40; i++) {
    if (await target.evaluate((element) => element === document.activeElement)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error('not reachable with Tab');
}

async function expectVisibleFocus(target: Locator): Promise<void> {
  await expect(target).toBeFocused();
  await expect(target).toHaveCSS('outline-style', 'solid');
}

test('usable by keyboard: labels, visible focus, Enter submits, Escape cancels', async ({ page, site }, testInfo) => {
  await page.goto(site.app());
  await expect(page.getByLabel('Email')).toBeFocused();
  await tabTo(page, page.getByRole('button', { name: 'Create an account' }));
  await expectVisibleFocus(page.getByRole('button', { name: 'Create an account' }));
  await page.keyboard.press('Enter');

  await expect(page.getByLabel('Name')).toBeFocused();
  await page.keyboard.type('Grace');
  await page.keyboard.press('Tab');
  await page.keyboard.type(uniqueEmail(testInfo));
  await page.keyboard.press('Tab');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await expect(page.getByText('Signed in as Grace')).toBeVisible();

  const title = page.getByRole('form', { name: 'New task' }).getByLabel('Title');
  await expect(title).toBeFocused();
  await page.keyboard.type('Learn the shortcuts');
  await page.keyboard.press('Enter');
  await expect(taskCheckbox(page, 'Learn the shortcuts')).toBeVisible();
  await expect(title).toBeFocused(); // ready for the next task
  await expect(title).toHaveValue('');

  await tabTo(page, taskCheckbox(page, 'Learn the shortcuts'));
  await expectVisibleFocus(taskCheckbox(page, 'Learn the shortcuts'));
  await page.keyboard.press('Space');
  await expect(taskCheckbox(page, 'Learn the shortcuts')).toBeChecked();

  const edit = page.getByRole('button', { name: 'Edit Learn the shortcuts' });
  await page.keyboard.press('Tab');
  await expectVisibleFocus(edit);
  await page.keyboard.press('Enter');
  const editTitle = page.getByRole('form', { name: 'Edit Learn the shortcuts' }).getByLabel('Title');
  await expect(editTitle).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(editTitle).toHaveCount(0);
  await expect(edit).toBeFocused();

  await page.keyboard.press('Enter');
  await expect(editTitle).toBeFocused();
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.type('Know the shortcuts');
  await page.keyboard.press('Enter');
  await expect(taskCheckbox(page, 'Know the shortcuts')).toBeChecked();
  await expectVisibleFocus(page.getByRole('button', { name: 'Edit Know the shortcuts' }));
});
