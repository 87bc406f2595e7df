// Signing in and out, and finding the session again after a reload.
import { queryOptions, useMutation, useQueryClient } from '@tanstack/react-query';

import { ApiError, api, call, setCsrfToken, type User } from './client';
import { taskKeys } from './tasks';

/** The signed-in user, or `null`. */
export const sessionQuery = queryOptions({
  queryKey: ['session'] as const,
  // A reload keeps the cookies but loses the CSRF token from memory: ask for it again, then
  // for the account. The API answers the token from the access cookie, or, once that has
  // expired, from the refresh cookie; the account request then meets the expired access token
  // and is refreshed and retried like any other. Without either cookie: signed out.
  queryFn: async (): Promise<User | null> => {
    const { data, error, response } = await api.GET('/api/v1/auth/csrf');
    if (response.status === 401) return null;
    if (!data) throw ApiError.from(response, error);
    setCsrfToken(data.csrf_token);
    const { user } = await call(api.GET('/api/v1/auth/me'));
    return user;
  },
  staleTime: Infinity,
});

export interface Credentials {
  email: string;
  password: string;
  name?: string;
}

/** Sign in (`register: false`) or create an account and sign in (`register: true`). */
export function useSignIn() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async ({ register, ...body }: Credentials & { register: boolean }) => {
      const answer = register
        ? await call(api.POST('/api/v1/auth/register', { body }))
        : await call(api.POST('/api/v1/auth/login', { body }));
      setCsrfToken(answer.csrf_token);
      return answer.user;
    },
    onSuccess: (user) => {
      queryClient.removeQueries({ queryKey: taskKeys.all });
      queryClient.setQueryData(sessionQuery.queryKey, user);
    },
  });
}

/** Sign out: the session is revoked and its cookies cleared; nothing of it stays cached. */
export function useSignOut() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => call(api.POST('/api/v1/auth/logout')),
    onSuccess: () => forgetSession(queryClient),
  });
}

/** Drops the session and every cached task (after sign-out, or when the session ended). */
export function forgetSession(queryClient: ReturnType<typeof useQueryClient>): void {
  setCsrfToken(null);
  queryClient.removeQueries({ queryKey: taskKeys.all });
  queryClient.setQueryData(sessionQuery.queryKey, null);
}
