// Sign in, or create an account.
import { type FormEvent, useState } from 'react';

import { describe } from '../api/client';
import { useSignIn } from '../api/session';

export function AuthScreen({ reason }: { reason: string | null }) {
  const [mode, setMode] = useState<'login' | 'register'>('login');
  const signIn = useSignIn();
  const registering = mode === 'register';

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const name = String(form.get('name') ?? '').trim();
    signIn.mutate({
      register: registering,
      email: String(form.get('email')),
      password: String(form.get('password')),
      ...(registering && name ? { name } : {}),
    });
  }

  return (
    <main className="auth">
      <h1>TaskFlow</h1>
      {reason && !signIn.isPending && (
        <p className="info" role="status">
          {reason}
        </p>
      )}
      {/* A new form per mode: its first field takes the focus. */}
      <form key={mode} onSubmit={submit} aria-labelledby="auth-title">
        <h2 id="auth-title">{registering ? 'Create an account' : 'Sign in'}</h2>
        {registering && (
          <label>
            Name <span className="hint">(optional)</span>
            <input name="name" autoComplete="name" maxLength={100} autoFocus />
          </label>
        )}
        <label>
          Email
          <input name="email" type="email" autoComplete="email" required autoFocus={!registering} />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete={registering ? 'new-password' : 'current-password'}
            required
            minLength={registering ? 8 : undefined}
            maxLength={128}
          />
          {registering && <span className="hint">8 to 128 characters</span>}
        </label>
        {signIn.isError && (
          <p className="error" role="alert">
            {describe(signIn.error)}
          </p>
        )}
        <button type="submit" disabled={signIn.isPending}>
          {signIn.isPending ? 'Please wait…' : registering ? 'Create account' : 'Sign in'}
        </button>
      </form>
      <p>
        {registering ? 'Already have an account?' : 'New here?'}{' '}
        <button
          type="button"
          className="link"
          onClick={() => {
            signIn.reset();
            setMode(registering ? 'login' : 'register');
          }}
        >
          {registering ? 'Sign in' : 'Create an account'}
        </button>
      </p>
    </main>
  );
}
