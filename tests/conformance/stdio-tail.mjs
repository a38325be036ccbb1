// tests/conformance/stdio-tail.mjs - the stdio ending of the conformance
// fixture server.  ../shared/conformance/fixture-server.mjs serves its
// fixtures over Streamable HTTP only; node_stdio_fixture (node.sh) keeps
// that file up to its "HTTP layer" section (the fixtures and buildServer)
// and appends this instead, so the stdio upstream serves the very same
// tools, resources and prompts on stdin/stdout.
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';

const stdioSession = { subscriptions: new Set() };
stdioSession.server = buildServer(stdioSession);
await stdioSession.server.connect(new StdioServerTransport());

// test://watched-resource changes every 3 s, as over HTTP.
setInterval(() => {
  watchedVersion++;
  if (stdioSession.subscriptions.has('test://watched-resource')) {
    stdioSession.server.sendResourceUpdated({ uri: 'test://watched-resource' }).catch(() => {});
  }
}, 3000).unref();
