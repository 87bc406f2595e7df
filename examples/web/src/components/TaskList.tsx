import { useMutationState, useQueryClient } from '@tanstack/react-query';

import { describe, type NewTask, type Task } from '../api/client';
import { CREATE_KEY, type Filters, taskKeys, useTaskList } from '../api/tasks';
import { TaskItem } from './TaskItem';

export function TaskList({ filters, onError }: { filters: Filters; onError: (e: unknown, t: Task) => void }) {
  const queryClient = useQueryClient();
  const list = useTaskList(filters);
  // Tasks being created, shown before the server has them (TanStack Query's optimistic
  // update "via the UI").
  const creating = useMutationState({
    filters: { mutationKey: CREATE_KEY, status: 'pending' },
    select: (mutation) => mutation.state.variables as NewTask,
  });
  const tasks = list.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <section className="list" aria-labelledby="list-title" aria-busy={list.isFetching}>
      <div className="list-header">
        <h2 id="list-title">Tasks</h2>
        <button
          type="button"
          onClick={() => queryClient.invalidateQueries({ queryKey: taskKeys.all })}
          disabled={list.isFetching}
        >
          Refresh
        </button>
      </div>
      {list.isPending && <p role="status">Loading tasks…</p>}
      {list.isError && (
        <div className="error" role="alert">
          <p>Could not load the tasks: {describe(list.error)}</p>
          <button type="button" onClick={() => list.refetch()}>
            Try again
          </button>
        </div>
      )}
      {(creating.length > 0 || tasks.length > 0) && (
        <ul aria-label="Tasks">
          {creating.map((task, i) => (
            <li key={`pending-${i}`} className="task pending">
              <span className="title">{task.title}</span>
              <span className="meta">Saving…</span>
            </li>
          ))}
          {tasks.map((task) => (
            <TaskItem key={task.id} task={task} onError={onError} />
          ))}
        </ul>
      )}
      {list.isSuccess && tasks.length === 0 && creating.length === 0 && <p>No tasks here.</p>}
      {list.hasNextPage && (
        <button
          type="button"
          className="more"
          onClick={() => list.fetchNextPage()}
          disabled={list.isFetchingNextPage}
        >
          {list.isFetchingNextPage ? 'Loading more…' : 'Load more'}
        </button>
      )}
    </section>
  );
}
