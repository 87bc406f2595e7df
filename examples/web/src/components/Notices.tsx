// Messages about what happened in the background (a change refused, a rate limit), announced
// to screen readers and dismissable.
import { createContext, type ReactNode, useCallback, useContext, useState } from 'react';

interface Notice {
  id: number;
  text: string;
}

const NotifyContext = createContext<(text: string) => void>(() => {});

export function useNotify(): (text: string) => void {
  return useContext(NotifyContext);
}

let nextId = 1;

export function Notices({ children }: { children: ReactNode }) {
  const [notices, setNotices] = useState<Notice[]>([]);
  const notify = useCallback((text: string) => {
    // The same message twice in a row (two requests refused alike) is said once.
    setNotices((shown) =>
      shown.at(-1)?.text === text ? shown : [...shown.slice(-2), { id: nextId++, text }],
    );
  }, []);
  const dismiss = (id: number) => setNotices((shown) => shown.filter((n) => n.id !== id));
  return (
    <NotifyContext.Provider value={notify}>
      <div className="notices" role="alert" aria-live="assertive">
        {notices.map((notice) => (
          <p key={notice.id} className="notice">
            <span>{notice.text}</span>
            <button type="button" onClick={() => dismiss(notice.id)} aria-label="Dismiss message">
              ×
            </button>
          </p>
        ))}
      </div>
      {children}
    </NotifyContext.Provider>
  );
}
