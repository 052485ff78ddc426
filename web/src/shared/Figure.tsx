import { Paper, Text } from "@mantine/core";
import type { ReactNode } from "react";

/** One headline figure (revenue, cost, ...), with an optional note under it. */
export function Figure({
  label,
  value,
  note,
  tone,
  testId,
}: {
  label: string;
  value: string;
  note?: ReactNode;
  tone?: "loss";
  testId?: string;
}) {
  return (
    <Paper withBorder p="md" radius="md">
      <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
        {label}
      </Text>
      <Text size="xl" fw={700} c={tone === "loss" ? "red.7" : undefined} data-testid={testId}>
        {value}
      </Text>
      {note && (
        <Text size="xs" c={tone === "loss" ? "red.7" : "dimmed"}>
          {note}
        </Text>
      )}
    </Paper>
  );
}
