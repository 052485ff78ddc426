// A secret the API returns once (key or token): shown in a dialog with a copy button.
import { Alert, Button, Code, CopyButton, Group, Modal, Stack, Text } from "@mantine/core";
import type { ReactNode } from "react";

export function SecretOnce({
  title,
  secret,
  onClose,
  usage,
}: {
  title: string;
  secret: string | null;
  onClose: () => void;
  usage?: ReactNode;
}) {
  return (
    <Modal opened={secret !== null} onClose={onClose} title={title} size="lg" closeOnClickOutside={false}>
      <Stack>
        <Alert color="yellow">
          Copy it now: it is shown only this once. Bizgraph keeps only a digest and cannot show it again.
        </Alert>
        <Code block data-testid="secret" style={{ wordBreak: "break-all" }}>
          {secret}
        </Code>
        {typeof usage === "string" ? (
          <Text size="sm" c="dimmed">
            {usage}
          </Text>
        ) : (
          usage
        )}
        <Group justify="flex-end">
          <CopyButton value={secret ?? ""}>
            {({ copied, copy }) => (
              <Button color={copied ? "teal" : "indigo"} onClick={copy}>
                {copied ? "Copied" : "Copy"}
              </Button>
            )}
          </CopyButton>
          <Button variant="default" onClick={onClose}>
            Done
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
