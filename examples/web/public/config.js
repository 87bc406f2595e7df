// Run-time settings of the TaskFlow web client, read before the app starts. Replace this file
// per deployment to point one build at another API without rebuilding:
//
//   window.TASKFLOW_CONFIG = { apiBaseUrl: 'https://api.example.com' };
//
// Left unset, the build-time VITE_API_BASE_URL applies, and without it the page's own origin
// (a same-origin deployment, the API behind the same reverse proxy).
window.TASKFLOW_CONFIG = {};
