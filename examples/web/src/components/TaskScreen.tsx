import { useCallback, useState } from 'react';

import { describe, type Task, type User } from '../api/client';
import { useSignOut } from '../api/session';
import { type Filters, isConflict, noFilters } from '../api/tasks';
import { FilterBar } from './FilterBar';
import { NewTaskForm } from './NewTaskForm';
import { useNotify } from './Notices';
import { Stats } from './Stats';
import { TaskList } from './TaskList';

export function TaskScreen({ user }: { user: User }) {
  const [filters, setFilters] = useState<Filters>(noFilters);
  const signOut = useSignOut();
  const notify = useNotify();
  const report = useCallback(
    (error: unknown, task?: Task) =>
      notify(
        isConflict(error) && task
          ? `“${task.title}” was changed elsewhere (another tab or device), so your change was not saved. The latest version is shown.`
          : describe(error),
      ),
    [notify],
  );

  return (
    <>
      <header className="top">
        <h1>TaskFlow</h1>
        <p>
          Signed in as <strong>{user.name ?? user.email}</strong>
        </p>
        <button type="button" onClick={() => signOut.mutate(undefined, { onError: (error) => report(error) })}>
          Sign out
        </button>
      </header>
      <main>
        <Stats />
        <NewTaskForm onError={report} />
        <FilterBar filters={filters} onChange={setFilters} />
        <TaskList filters={filters} onError={report} />
      </main>
    </>
  );
}
