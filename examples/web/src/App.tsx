import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';

import { describe, onSessionEnded } from './api/client';
import { forgetSession, sessionQuery } from './api/session';
import { AuthScreen } from './components/AuthScreen';
import { TaskScreen } from './components/TaskScreen';

export function App() {
  const queryClient = useQueryClient();
  const session = useQuery(sessionQuery);
  const [reason, setReason] = useState<string | null>(null);

  // The refresh token was refused (expired, revoked, signed out elsewhere): back to sign-in.
  useEffect(
    () =>
      onSessionEnded(() => {
        forgetSession(queryClient);
        setReason('Your session has ended. Please sign in again.');
      }),
    [queryClient],
  );

  if (session.isPending) {
    return (
      <p className="loading" role="status">
        Loading…
      </p>
    );
  }
  if (session.isError) {
    return (
      <main className="auth" role="alert">
        <p>{describe(session.error)}</p>
        <button type="button" onClick={() => session.refetch()}>
          Try again
        </button>
      </main>
    );
  }
  return session.data ? <TaskScreen user={session.data} /> : <AuthScreen reason={reason} />;
}
