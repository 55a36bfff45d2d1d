// <ws-file-upload> from React 19 with no wrapper: React sets `auth` (an object) as a property and turns
// `on<event>` props into addEventListener(<event>) on custom elements.
import 'ws-file-upload';
import { useState } from 'react';
import { createRoot } from 'react-dom/client';

function App() {
  const [progressEvents, setProgressEvents] = useState(0);
  const [stored, setStored] = useState([]);
  return (
    <main>
      <h1>React</h1>
      <ws-file-upload
        url={`ws://${location.host}/upload`}
        multiple
        auto
        type="binary"
        auth={{ token: 'react-token' }}
        onprogress={() => setProgressEvents((count) => count + 1)}
        onsuccess={(event) => setStored((names) => [...names, event.detail.file.name])}
      />
      <p id="progress-count">{progressEvents}</p>
      <ul id="stored">
        {stored.map((name) => (
          <li key={name}>{name}</li>
        ))}
      </ul>
    </main>
  );
}

createRoot(document.getElementById('root')).render(<App />);
