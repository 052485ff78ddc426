// Loading, error and empty states that say what to do next.
import { Alert, Button, Center, Loader, Paper, Stack, Text, Title } from "@mantine/core";
import type { ReactNode } from "react";
import type { CombinedError } from "urql";
import { describeError, isUnauthenticated } from "./api";

export function Loading({ what }: { what: string }) {
  return (
    <Center py="xl" role="status" aria-live="polite">
      <Stack align="center" gap="xs">
        <Loader />
        <Text c="dimmed">Loading {what}…</Text>
      </Stack>
    </Center>
  );
}

export function ErrorState({ error, retry }: { error: CombinedError; retry?: () => void }) {
  if (isUnauthenticated(error)) {
    // The token was revoked or the session ran out while the page was open.
    return (
      <Alert color="yellow" title="Your session has ended" role="alert">
        <Button size="xs" variant="light" onClick={() => window.location.reload()}>
          Sign in again
        </Button>
      </Alert>
    );
  }
  return (
    <Alert color="red" title="Could not load this page" role="alert">
      <Stack gap="xs" align="flex-start">
        <Text size="sm">{describeError(error)}</Text>
        {retry && (
          <Button size="xs" variant="light" color="red" onClick={retry}>
            Retry
          </Button>
        )}
      </Stack>
    </Alert>
  );
}

export function Empty({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Paper withBorder p="xl" radius="md">
      <Stack align="center" gap="sm" ta="center">
        <Title order={3}>{title}</Title>
        {children}
      </Stack>
    </Paper>
  );
}

export function MutationError({ message }: { message: string | null }) {
  if (!message) return null;
  return (
    <Alert color="red" role="alert" title="Not saved">
      {message}
    </Alert>
  );
}
