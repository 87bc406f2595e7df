import { type FormEvent } from 'react';

import type { Priority } from '../api/client';
import { useCreateTask } from '../api/tasks';
import { fromLocalInput, parseTags } from './fields';

export function NewTaskForm({ onError }: { onError: (error: unknown) => void }) {
  const create = useCreateTask();

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const fields = new FormData(form);
    const title = String(fields.get('title')).trim();
    if (!title) return;
    create.mutate(
      {
        title,
        priority: String(fields.get('priority')) as Priority,
        due_at: fromLocalInput(String(fields.get('due_at'))),
        tags: parseTags(String(fields.get('tags'))),
      },
      { onError },
    );
    // The task shows as pending at once; the form is ready for the next one.
    form.reset();
    form.querySelector<HTMLInputElement>('input[name=title]')?.focus();
  }

  return (
    <form className="new-task" onSubmit={submit} aria-label="New task">
      <label className="grow">
        Title
        <input name="title" required maxLength={200} placeholder="What needs doing?" autoFocus />
      </label>
      <label>
        Priority
        <select name="priority" defaultValue="medium">
          <option value="low">Low</option>
          <option value="medium">Medium</option>
          <option value="high">High</option>
        </select>
      </label>
      <label>
        Due
        <input name="due_at" type="datetime-local" />
      </label>
      <label>
        Tags
        <input name="tags" placeholder="home, errands" />
      </label>
      <button type="submit">Add task</button>
    </form>
  );
}
