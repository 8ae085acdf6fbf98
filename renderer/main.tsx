// The dashboard's entry point.
import './zod-jitless.js'; // must stay the first import
import './styles.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.js';
import { createBrowserConnection } from './browser-connection.js';

const connection = createBrowserConnection(window);
connection.start();

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App connection={connection} />
  </StrictMode>,
);
