import { describe } from '../api/client';
import { useTaskStats } from '../api/tasks';

export function Stats() {
  const stats = useTaskStats();
  return (
    <section className="stats" aria-labelledby="stats-title">
      <h2 id="stats-title">Overview</h2>
      {stats.isPending && <p role="status">Loading…</p>}
      {stats.isError && <p className="error">{describe(stats.error)}</p>}
      {stats.data && (
        <dl>
          {(
            [
              ['Total', stats.data.total],
              ['Open', stats.data.open],
              ['Done', stats.data.completed],
              ['Overdue', stats.data.overdue],
            ] as const
          ).map(([term, value]) => (
            <div key={term}>
              <dt>{term}</dt> <dd>{value}</dd>
            </div>
          ))}
        </dl>
      )}
    </section>
  );
}
