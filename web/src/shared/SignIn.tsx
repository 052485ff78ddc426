// The sign-in screen of both apps: paste a token; the server keeps it in an HttpOnly cookie.
import { Alert, Button, Code, Container, Paper, PasswordInput, Stack, Text, Title } from "@mantine/core";
import { useState, type FormEvent, type ReactNode } from "react";
import { signIn, type AppName, type SignedIn } from "./api";

interface Props {
  app: AppName;
  title: string;
  help: ReactNode;
  onSignedIn: (who: SignedIn) => void;
}

export function SignIn({ app, title, help, onSignedIn }: Props) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await signIn(token.trim(), app));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Container size={520} py={60}>
      <Paper withBorder shadow="sm" p="xl" radius="md">
        <form onSubmit={submit}>
          <Stack>
            <Title order={2}>{title}</Title>
            {help}
            <PasswordInput
              label="Token"
              placeholder={app === "admin" ? "bzs_…" : "bzp_…"}
              value={token}
              onChange={(e) => setToken(e.currentTarget.value)}
              required
              autoFocus
              data-autofocus
            />
            {error && (
              <Alert color="red" role="alert">
                {error}
              </Alert>
            )}
            <Button type="submit" loading={busy} disabled={!token.trim()}>
              Sign in
            </Button>
            <Text size="xs" c="dimmed">
              The token is kept in a secure cookie for this browser session, never in the page.
            </Text>
          </Stack>
        </form>
      </Paper>
    </Container>
  );
}

export function StaffSignInHelp() {
  return (
    <Stack gap={6}>
      <Text size="sm">
        Sign in with a staff token. On a fresh install, create the first one from the project folder:
      </Text>
      <Code block style={{ whiteSpace: "pre-wrap", wordBreak: "break-word" }}>
        .venv/bin/bizgraph staff issue --name "Your name" --role owner
      </Code>
      <Text size="sm" c="dimmed">
        It prints the token once. Owners can then create tokens for colleagues under “Staff”.
      </Text>
    </Stack>
  );
}
