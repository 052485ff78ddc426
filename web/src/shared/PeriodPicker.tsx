import { ActionIcon, Group, Text } from "@mantine/core";
import { periodLabel, shiftPeriod } from "./format";

/** Previous / next month around the shown one ("YYYY-MM", the agency's months). */
export function PeriodPicker({
  period,
  current,
  onChange,
}: {
  period: string;
  current: string;
  onChange: (period: string) => void;
}) {
  return (
    <Group gap="xs" wrap="nowrap">
      <ActionIcon
        variant="default"
        aria-label="Previous month"
        onClick={() => onChange(shiftPeriod(period, -1))}
      >
        ‹
      </ActionIcon>
      <Text fw={500} miw={130} ta="center" data-testid="period">
        {periodLabel(period)}
      </Text>
      <ActionIcon
        variant="default"
        aria-label="Next month"
        disabled={period >= current}
        onClick={() => onChange(shiftPeriod(period, 1))}
      >
        ›
      </ActionIcon>
    </Group>
  );
}
