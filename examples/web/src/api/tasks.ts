// Tasks with TanStack Query: query keys that carry the filters, the list as an infinite query
// over `next_cursor`, and optimistic changes (TanStack Query's onMutate / onError / onSettled)
// that send `If-Match` and recover from 412.
import {
  type InfiniteData,
  type QueryClient,
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
} from '@tanstack/react-query';

import {
  ApiError,
  api,
  call,
  etagOf,
  type NewTask,
  type Priority,
  type Task,
  type TaskPage,
  type TaskPatch,
} from './client';

export type Sort = 'created_at' | '-created_at' | 'due_at' | '-due_at' | 'updated_at' | '-updated_at';

/** The list's filters, as the form holds them (`''`: no filter). */
export interface Filters {
  q: string;
  completed: '' | 'true' | 'false';
  priority: '' | Priority;
  tag: string;
  /** `YYYY-MM-DD`, local days. */
  dueAfter: string;
  dueBefore: string;
  sort: Sort;
}

export const noFilters: Filters = {
  q: '',
  completed: '',
  priority: '',
  tag: '',
  dueAfter: '',
  dueBefore: '',
  sort: '-created_at',
};

export const PAGE_SIZE = 10;

/** Every key starts with `tasks`, so one invalidation reaches lists and stats alike. */
export const taskKeys = {
  all: ['tasks'] as const,
  lists: () => [...taskKeys.all, 'list'] as const,
  list: (filters: Filters) => [...taskKeys.lists(), filters] as const,
  stats: () => [...taskKeys.all, 'stats'] as const,
};

/** A local day (`YYYY-MM-DD`) as the RFC 3339 instant it starts at. */
function startOfDay(day: string): string {
  return new Date(`${day}T00:00`).toISOString();
}

function listQuery(filters: Filters, cursor: string | null) {
  return {
    q: filters.q.trim() || undefined,
    completed: filters.completed === '' ? undefined : filters.completed === 'true',
    priority: filters.priority || undefined,
    tag: filters.tag.trim() || undefined,
    due_after: filters.dueAfter ? startOfDay(filters.dueAfter) : undefined,
    due_before: filters.dueBefore ? startOfDay(filters.dueBefore) : undefined,
    sort: filters.sort,
    limit: PAGE_SIZE,
    cursor: cursor ?? undefined,
  };
}

export function useTaskList(filters: Filters) {
  return useInfiniteQuery({
    queryKey: taskKeys.list(filters),
    queryFn: ({ pageParam, signal }) =>
      call(api.GET('/api/v1/tasks', { params: { query: listQuery(filters, pageParam) }, signal })),
    initialPageParam: null as string | null,
    getNextPageParam: (last: TaskPage) => last.next_cursor ?? undefined,
  });
}

export function useTaskStats() {
  return useQuery({
    queryKey: taskKeys.stats(),
    queryFn: ({ signal }) => call(api.GET('/api/v1/tasks/stats', { signal })),
  });
}

type Lists = InfiniteData<TaskPage, string | null>;
type Snapshot = [readonly unknown[], Lists | undefined][];

/** Applies `change` to every task of every cached list; the lists as they were. */
async function changeCachedTasks(
  queryClient: QueryClient,
  change: (tasks: Task[]) => Task[],
): Promise<Snapshot> {
  // A list fetched before the change must not land after it and undo it on screen.
  await queryClient.cancelQueries({ queryKey: taskKeys.all });
  const snapshot = queryClient.getQueriesData<Lists>({ queryKey: taskKeys.lists() });
  queryClient.setQueriesData<Lists>({ queryKey: taskKeys.lists() }, (lists) =>
    lists && {
      ...lists,
      pages: lists.pages.map((page) => ({ ...page, items: change(page.items) })),
    },
  );
  return snapshot;
}

function restore(queryClient: QueryClient, snapshot: Snapshot | undefined): void {
  snapshot?.forEach(([key, lists]) => queryClient.setQueryData(key, lists));
}

/**
 * After a change: refetch the lists and the stats, unless another change is still under way.
 * A refetch that lands while a later change waits for its answer would bring back the server's
 * state before that change and undo it on screen; the last change to settle refetches.
 */
async function refetchWhenSettled(queryClient: QueryClient): Promise<void> {
  if (queryClient.isMutating({ mutationKey: taskKeys.all }) > 1) return;
  // A fetch sent before the change may answer with the state before it. Invalidating alone
  // would wait for it when it is a query's first fetch (no data yet): cancel it, fetch again.
  await queryClient.cancelQueries({ queryKey: taskKeys.all });
  await queryClient.invalidateQueries({ queryKey: taskKeys.all });
}

export const CREATE_KEY = ['tasks', 'create'] as const;

/**
 * Creates a task. Where a new task belongs in a filtered, sorted, paginated list is the
 * server's call, so the pending task is shown from the mutation's variables
 * (`useMutationState`) rather than guessed into the cache, and the lists are refetched.
 */
export function useCreateTask() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationKey: CREATE_KEY,
    mutationFn: (task: NewTask) => call(api.POST('/api/v1/tasks', { body: task })),
    onSettled: () => refetchWhenSettled(queryClient),
  });
}

/** A 412: the task changed elsewhere since this page read it. */
export function isConflict(error: unknown): boolean {
  return error instanceof ApiError && error.status === 412;
}

/**
 * Edits or completes a task, on screen at once; `If-Match` makes the server refuse (412) a
 * change to a version this page has not seen, and then the screen goes back and refetches.
 */
export function useUpdateTask(onError: (error: unknown, task: Task) => void) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationKey: [...taskKeys.all, 'update'],
    mutationFn: ({ task, patch }: { task: Task; patch: TaskPatch }) =>
      call(
        api.PATCH('/api/v1/tasks/{id}', {
          params: { path: { id: task.id } },
          headers: { 'If-Match': etagOf(task) },
          body: patch,
        }),
      ),
    onMutate: ({ task, patch }) =>
      changeCachedTasks(queryClient, (tasks) =>
        tasks.map((t) => (t.id === task.id ? { ...t, ...patch } : t)),
      ),
    onError: (error, { task }, snapshot) => {
      restore(queryClient, snapshot);
      onError(error, task);
    },
    onSettled: () => refetchWhenSettled(queryClient),
  });
}

/** Deletes a task, off the screen at once; back if the server refuses. */
export function useDeleteTask(onError: (error: unknown, task: Task) => void) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationKey: [...taskKeys.all, 'delete'],
    // DELETE takes no If-Match in the API: deleting is not conditional on a version.
    mutationFn: (task: Task) =>
      call(api.DELETE('/api/v1/tasks/{id}', { params: { path: { id: task.id } } })),
    onMutate: (task) =>
      changeCachedTasks(queryClient, (tasks) => tasks.filter((t) => t.id !== task.id)),
    onError: (error, task, snapshot) => {
      restore(queryClient, snapshot);
      onError(error, task);
    },
    onSettled: () => refetchWhenSettled(queryClient),
  });
}
