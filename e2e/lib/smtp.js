// A real SMTP server on loopback (the smtp-server package) that keeps what
// it receives, parsed by mailparser, so a test reads back what authjar sent.
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';
import { listen } from './servers.js';
import { waitFor } from './util.js';

/** Starts the server on 127.0.0.1 (on a free port); `messages` fills as mail arrives. */
export async function startSmtp() {
  const messages = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, done) {
      simpleParser(stream).then((mail) => {
        messages.push({ to: mail.to?.value.map((a) => a.address.toLowerCase()) ?? [], subject: mail.subject, text: mail.text, html: mail.html });
        done();
      }, done);
    },
  });
  const port = await listen(server.server);
  /** Waits (15 s at most) for the `n`th message to `to` (counting from 0). */
  const nth = (to, n = 0) => waitFor(
    () => messages.filter((m) => m.to.includes(to.toLowerCase()))[n],
    () => `no message #${n} to ${to}; got ${JSON.stringify(messages.map((m) => [m.to, m.subject]))}`,
  );
  /** The link in the `n`th message to `to` that carries `action` (verify_email, reset_password). */
  const link = async (to, action, n = 0) => {
    const m = await nth(to, n);
    const found = m.text.match(new RegExp(`https?://\\S+#${action}=[\\w-]+`));
    if (!found) throw new Error(`no ${action} link in: ${m.text}`);
    return found[0];
  };
  return {
    url: `smtp+plain://127.0.0.1:${port}`,
    messages,
    nth,
    link,
    stop: () => new Promise((ok) => server.close(ok)),
  };
}
