// The client's budget on its page: the gauge, and for owners and admins a form that sets,
// replaces or removes it (the API's validation messages shown as they come).
import { Button, Group, Paper, SegmentedControl, Stack, Text, TextInput, Title } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { graphql } from "../gql";
import type { BudgetBasis, BudgetMode } from "../gql/graphql";
import { BudgetGauge, type BudgetFigures } from "../shared/BudgetGauge";
import { parseThresholds } from "../shared/budgets";
import { MutationError } from "../shared/states";

const SetBudget = graphql(`
  mutation SetBudget($clientId: ID!, $input: BudgetInput!) {
    setBudget(clientId: $clientId, input: $input) {
      __typename
      ... on SetBudgetSuccess { budget { limit { amount } } }
      ... on ValidationError { message }
      ... on NotFoundError { message }
    }
  }
`);

const RemoveBudget = graphql(`
  mutation RemoveBudget($clientId: ID!) {
    removeBudget(clientId: $clientId) {
      __typename
      ... on RemoveBudgetSuccess { removed }
      ... on NotFoundError { message }
    }
  }
`);

export const SetKeyBudget = graphql(`
  mutation SetKeyBudget($keyId: ID!, $input: BudgetInput!) {
    setKeyBudget(keyId: $keyId, input: $input) {
      __typename
      ... on SetBudgetSuccess { budget { limit { amount } } }
      ... on ValidationError { message }
      ... on NotFoundError { message }
    }
  }
`);

export const RemoveKeyBudget = graphql(`
  mutation RemoveKeyBudget($keyId: ID!) {
    removeKeyBudget(keyId: $keyId) {
      __typename
      ... on RemoveBudgetSuccess { removed }
      ... on NotFoundError { message }
    }
  }
`);

export interface BudgetDraft {
  limit: string;
  mode: BudgetMode;
  basis: BudgetBasis | "PLAN";
  thresholds: string;
}

export function draftOf(budget: (BudgetFigures & { basisIsDefault?: boolean }) | null | undefined): BudgetDraft {
  if (!budget) return { limit: "", mode: "HARD" as BudgetMode, basis: "PLAN", thresholds: "50, 80, 100" };
  return {
    limit: budget.limit.amount,
    mode: budget.mode as BudgetMode,
    basis: budget.basisIsDefault ? "PLAN" : (budget.basis as BudgetBasis),
    thresholds: budget.thresholds.join(", "),
  };
}

/** The form's values as the API's BudgetInput, or what is wrong with them. */
export function budgetInput(draft: BudgetDraft) {
  const thresholds = parseThresholds(draft.thresholds);
  if ("error" in thresholds) return { error: thresholds.error };
  return {
    input: {
      limit: draft.limit.trim(),
      mode: draft.mode,
      basis: draft.basis === "PLAN" ? null : draft.basis,
      thresholds: thresholds.value.length ? thresholds.value : [50, 80, 100],
    },
  };
}

export function BudgetFields({ draft, onChange, currency }: { draft: BudgetDraft; onChange: (d: BudgetDraft) => void; currency: string }) {
  return (
    <Group align="flex-end" wrap="wrap">
      <TextInput label={`Limit per month (${currency})`} placeholder="250.00" value={draft.limit} required
        onChange={(e) => onChange({ ...draft, limit: e.currentTarget.value })} />
      <Stack gap={4}>
        <Text size="sm" fw={500} id="budget-mode-label">Mode</Text>
        <SegmentedControl aria-labelledby="budget-mode-label" value={draft.mode}
          onChange={(v) => onChange({ ...draft, mode: v as BudgetMode })}
          data={[{ value: "HARD", label: "Hard (refuse)" }, { value: "SOFT", label: "Soft (alert)" }]} />
      </Stack>
      <Stack gap={4}>
        <Text size="sm" fw={500} id="budget-basis-label">Measured on</Text>
        <SegmentedControl aria-labelledby="budget-basis-label" value={draft.basis}
          onChange={(v) => onChange({ ...draft, basis: v as BudgetDraft["basis"] })}
          data={[{ value: "PLAN", label: "As the plan says" }, { value: "CHARGE", label: "Charge" }, { value: "COST", label: "Provider cost" }]} />
      </Stack>
      <TextInput label="Alert thresholds (%)" value={draft.thresholds}
        onChange={(e) => onChange({ ...draft, thresholds: e.currentTarget.value })} />
    </Group>
  );
}

export function BudgetPanel({
  clientId,
  currency,
  budget,
  writable,
  onChange,
}: {
  clientId: string;
  currency: string;
  budget: (BudgetFigures & { basisIsDefault: boolean }) | null | undefined;
  writable: boolean;
  onChange: () => void;
}) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState<BudgetDraft>(draftOf(budget));
  const [problem, setProblem] = useState<string | null>(null);
  const [setState, set] = useMutation(SetBudget);
  const [removeState, remove] = useMutation(RemoveBudget);

  function edit() {
    setDraft(draftOf(budget));
    setProblem(null);
    setEditing(true);
  }

  async function save(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    const made = budgetInput(draft);
    if ("error" in made) return setProblem(made.error ?? null);
    const result = await set({ clientId, input: made.input });
    const answer = result.data?.setBudget;
    if (result.error) setProblem(result.error.message);
    else if (answer && answer.__typename !== "SetBudgetSuccess") setProblem(answer.message);
    else {
      setEditing(false);
      onChange();
    }
  }

  async function drop() {
    if (!window.confirm("Remove this client's budget? Its calls are no longer limited or alerted on spend.")) return;
    setProblem(null);
    const result = await remove({ clientId });
    const answer = result.data?.removeBudget;
    if (result.error) setProblem(result.error.message);
    else if (answer && answer.__typename !== "RemoveBudgetSuccess") setProblem(answer.message);
    else onChange();
  }

  return (
    <Paper withBorder p="md">
      <Stack>
        <Group justify="space-between">
          <Title order={4}>Budget</Title>
          {writable && !editing && (
            <Group gap="xs">
              <Button size="xs" variant="light" onClick={edit}>{budget ? "Edit budget" : "Set a budget"}</Button>
              {budget && (
                <Button size="xs" variant="subtle" color="red" onClick={drop} loading={removeState.fetching}>Remove budget</Button>
              )}
            </Group>
          )}
        </Group>
        {budget ? (
          <BudgetGauge budget={budget} />
        ) : (
          <Text c="dimmed" data-testid="no-budget">
            No budget: calls are not limited by spend. {writable ? "Set one to refuse (hard) or alert on (soft) spending past a monthly limit." : ""}
          </Text>
        )}
        {editing && (
          <form onSubmit={save} aria-label="Budget">
            <Stack>
              <BudgetFields draft={draft} onChange={setDraft} currency={currency} />
              <Group>
                <Button type="submit" loading={setState.fetching}>Save budget</Button>
                <Button variant="default" onClick={() => setEditing(false)}>Cancel</Button>
              </Group>
            </Stack>
          </form>
        )}
        <MutationError message={problem} />
      </Stack>
    </Paper>
  );
}
