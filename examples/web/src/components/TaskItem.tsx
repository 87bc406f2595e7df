import { type FormEvent, type KeyboardEvent, useRef, useState } from 'react';

import type { Priority, Task } from '../api/client';
import { useDeleteTask, useUpdateTask } from '../api/tasks';
import { formatInstant, fromLocalInput, parseTags, toLocalInput } from './fields';

export function TaskItem({ task, onError }: { task: Task; onError: (e: unknown, t: Task) => void }) {
  const [editing, setEditing] = useState(false);
  const editButton = useRef<HTMLButtonElement>(null);
  const update = useUpdateTask(onError);
  const remove = useDeleteTask(onError);
  const overdue = !task.completed && task.due_at != null && new Date(task.due_at) < new Date();

  function close() {
    setEditing(false);
    // Back where the keyboard user was.
    requestAnimationFrame(() => editButton.current?.focus());
  }

  function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const f = new FormData(event.currentTarget);
    const title = String(f.get('title')).trim();
    if (!title) return;
    update.mutate({
      task,
      patch: {
        title,
        priority: String(f.get('priority')) as Priority,
        due_at: fromLocalInput(String(f.get('due_at'))),
        tags: parseTags(String(f.get('tags'))),
      },
    });
    close();
  }

  function cancelOnEscape(event: KeyboardEvent) {
    if (event.key === 'Escape') close();
  }

  if (editing) {
    return (
      <li className="task editing">
        <form onSubmit={save} onKeyDown={cancelOnEscape} aria-label={`Edit ${task.title}`}>
          <label className="grow">
            Title
            <input name="title" defaultValue={task.title} required maxLength={200} autoFocus />
          </label>
          <label>
            Priority
            <select name="priority" defaultValue={task.priority}>
              <option value="low">Low</option>
              <option value="medium">Medium</option>
              <option value="high">High</option>
            </select>
          </label>
          <label>
            Due
            <input name="due_at" type="datetime-local" defaultValue={toLocalInput(task.due_at)} />
          </label>
          <label>
            Tags
            <input name="tags" defaultValue={task.tags.join(', ')} />
          </label>
          <div className="actions">
            <button type="submit">Save</button>
            <button type="button" onClick={close}>
              Cancel
            </button>
          </div>
        </form>
      </li>
    );
  }

  return (
    <li className={task.completed ? 'task done' : 'task'}>
      <label className="check">
        <input
          type="checkbox"
          checked={task.completed}
          onChange={() => update.mutate({ task, patch: { completed: !task.completed } })}
        />
        <span className="title">{task.title}</span>
      </label>
      <span className="meta">
        <span className={`priority ${task.priority}`}>{task.priority}</span>
        {task.due_at && (
          <span className={overdue ? 'due overdue' : 'due'}>
            {overdue ? 'Overdue: ' : 'Due '}
            <time dateTime={task.due_at}>{formatInstant(task.due_at)}</time>
          </span>
        )}
        {task.tags.map((tag) => (
          <span key={tag} className="tag">
            #{tag}
          </span>
        ))}
      </span>
      <span className="actions">
        <button type="button" ref={editButton} onClick={() => setEditing(true)} aria-label={`Edit ${task.title}`}>
          Edit
        </button>
        <button type="button" onClick={() => remove.mutate(task)} aria-label={`Delete ${task.title}`}>
          Delete
        </button>
      </span>
    </li>
  );
}
