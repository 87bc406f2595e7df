import { startStack } from './stack';

/** Starts the servers once for every project; Playwright calls the returned teardown. */
export default async function globalSetup(): Promise<() => Promise<void>> {
  return startStack();
}
