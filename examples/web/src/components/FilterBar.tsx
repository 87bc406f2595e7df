import { type FormEvent, useRef, useState } from 'react';

import type { Priority } from '../api/client';
import { type Filters, noFilters, type Sort } from '../api/tasks';

const sorts: [Sort, string][] = [
  ['-created_at', 'Newest first'],
  ['created_at', 'Oldest first'],
  ['due_at', 'Due soonest'],
  ['-due_at', 'Due latest'],
  ['-updated_at', 'Recently changed'],
  ['updated_at', 'Least recently changed'],
];

/** The list's filters: text fields apply on Enter (or "Apply"), choices at once. */
export function FilterBar({ filters, onChange }: { filters: Filters; onChange: (f: Filters) => void }) {
  const form = useRef<HTMLFormElement>(null);
  // Bumped by "Clear": a new key gives fresh fields with the default values.
  const [cleared, setCleared] = useState(0);

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const f = new FormData(event.currentTarget);
    const text = (name: string) => String(f.get(name) ?? '');
    onChange({
      q: text('q'),
      completed: text('completed') as Filters['completed'],
      priority: text('priority') as '' | Priority,
      tag: text('tag'),
      dueAfter: text('dueAfter'),
      dueBefore: text('dueBefore'),
      sort: text('sort') as Sort,
    });
  }
  const applyNow = () => form.current?.requestSubmit();

  return (
    <form
      ref={form}
      key={cleared}
      className="filters"
      onSubmit={submit}
      aria-label="Filters"
    >
      <label className="grow">
        Search
        <input name="q" type="search" defaultValue={filters.q} maxLength={200} />
      </label>
      <label>
        Status
        <select name="completed" defaultValue={filters.completed} onChange={applyNow}>
          <option value="">All</option>
          <option value="false">Open</option>
          <option value="true">Done</option>
        </select>
      </label>
      <label>
        Priority
        <select name="priority" defaultValue={filters.priority} onChange={applyNow}>
          <option value="">Any</option>
          <option value="low">Low</option>
          <option value="medium">Medium</option>
          <option value="high">High</option>
        </select>
      </label>
      <label>
        Tag
        <input name="tag" defaultValue={filters.tag} maxLength={32} />
      </label>
      <label>
        Due after
        <input name="dueAfter" type="date" defaultValue={filters.dueAfter} onChange={applyNow} />
      </label>
      <label>
        Due before
        <input name="dueBefore" type="date" defaultValue={filters.dueBefore} onChange={applyNow} />
      </label>
      <label>
        Sort
        <select name="sort" defaultValue={filters.sort} onChange={applyNow}>
          {sorts.map(([value, text]) => (
            <option key={value} value={value}>
              {text}
            </option>
          ))}
        </select>
      </label>
      <div className="actions">
        <button type="submit">Apply</button>
        <button
          type="button"
          onClick={() => {
            setCleared((n) => n + 1);
            onChange(noFilters);
          }}
          disabled={filters === noFilters}
        >
          Clear
        </button>
      </div>
    </form>
  );
}
