import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

import { isClientError } from './api/client';
import { App } from './App';
import { Notices } from './components/Notices';
import './styles.css';

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // Fresh for 10 s; after that, a remount or a return to the tab revalidates, cheaply: the
      // browser's HTTP cache answers `If-None-Match` with the server's ETag (304).
      staleTime: 10_000,
      // A 4xx will not change by asking again (a 401 was already refreshed and retried).
      retry: (failures, error) => !isClientError(error) && failures < 2,
    },
  },
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <Notices>
        <App />
      </Notices>
    </QueryClientProvider>
  </StrictMode>,
);
