// A key's rate limits and own budget: shown on its row, edited in a dialog (owners and admins).
import { Badge, Button, Group, Modal, Stack, Text, TextInput } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { graphql } from "../gql";
import { type BudgetFigures } from "../shared/BudgetGauge";
import { describeLimits, formatUsedPercent, gaugeLevel, LEVEL_COLOR, parseLimit } from "../shared/budgets";
import { formatMoney } from "../shared/format";
import { MutationError } from "../shared/states";
import { BudgetFields, budgetInput, draftOf, RemoveKeyBudget, SetKeyBudget, type BudgetDraft } from "./BudgetPanel";

const SetKeyRateLimits = graphql(`
  mutation SetKeyRateLimits($keyId: ID!, $input: RateLimitsInput!) {
    setKeyRateLimits(keyId: $keyId, input: $input) {
      __typename
      ... on ApiKeySuccess { apiKey { id rpmLimit tpmLimit } }
      ... on ValidationError { message }
      ... on NotFoundError { message }
    }
  }
`);

export interface LimitedKey {
  id: string;
  prefix: string;
  rpmLimit?: number | null;
  tpmLimit?: number | null;
  budget?: (BudgetFigures & { basisIsDefault: boolean }) | null;
}

export function KeyBudgetCell({ budget }: { budget: LimitedKey["budget"] }) {
  if (!budget) return <Text size="sm" c="dimmed">none</Text>;
  const level = gaugeLevel({ limit: budget.limit.amount, spent: budget.spent.amount, reserved: budget.reserved?.amount ?? "0", thresholds: budget.thresholds });
  return (
    <Group gap={6} wrap="nowrap">
      <Text size="sm">{formatUsedPercent(budget.usedPercent)} of {formatMoney(budget.limit.amount, budget.limit.currency)}</Text>
      {level !== "ok" && <Badge size="xs" color={LEVEL_COLOR[level]}>{level === "over" ? "reached" : "near"}</Badge>}
    </Group>
  );
}

export function KeyLimitsText({ apiKey }: { apiKey: LimitedKey }) {
  return <Text size="sm">{describeLimits(apiKey.rpmLimit, apiKey.tpmLimit)}</Text>;
}

export function KeyLimitsDialog({ apiKey, currency, onClose, onChange }: { apiKey: LimitedKey | null; currency: string; onClose: () => void; onChange: () => void }) {
  return (
    <Modal opened={apiKey !== null} onClose={onClose} title={apiKey ? `Limits of key ${apiKey.prefix}…` : ""} size="lg">
      {apiKey && <KeyLimitsForm apiKey={apiKey} currency={currency} onChange={onChange} />}
    </Modal>
  );
}

function KeyLimitsForm({ apiKey, currency, onChange }: { apiKey: LimitedKey; currency: string; onChange: () => void }) {
  const [rpm, setRpm] = useState(apiKey.rpmLimit?.toString() ?? "");
  const [tpm, setTpm] = useState(apiKey.tpmLimit?.toString() ?? "");
  const [draft, setDraft] = useState<BudgetDraft>(draftOf(apiKey.budget));
  const [problem, setProblem] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [limitsState, setLimits] = useMutation(SetKeyRateLimits);
  const [budgetState, setBudget] = useMutation(SetKeyBudget);
  const [removeState, removeBudget] = useMutation(RemoveKeyBudget);

  async function saveLimits(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    setSaved(null);
    const rpmLimit = parseLimit(rpm, "Requests per minute");
    const tpmLimit = parseLimit(tpm, "Tokens per minute");
    if ("error" in rpmLimit) return setProblem(rpmLimit.error);
    if ("error" in tpmLimit) return setProblem(tpmLimit.error);
    const result = await setLimits({ keyId: apiKey.id, input: { rpmLimit: rpmLimit.value, tpmLimit: tpmLimit.value } });
    const answer = result.data?.setKeyRateLimits;
    if (result.error) setProblem(result.error.message);
    else if (answer && answer.__typename !== "ApiKeySuccess") setProblem(answer.message);
    else {
      setSaved("Rate limits saved; they apply from the key's next request.");
      onChange();
    }
  }

  async function saveBudget(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    setSaved(null);
    const made = budgetInput(draft);
    if ("error" in made) return setProblem(made.error ?? null);
    const result = await setBudget({ keyId: apiKey.id, input: made.input });
    const answer = result.data?.setKeyBudget;
    if (result.error) setProblem(result.error.message);
    else if (answer && answer.__typename !== "SetBudgetSuccess") setProblem(answer.message);
    else {
      setSaved("Key budget saved.");
      onChange();
    }
  }

  async function dropBudget() {
    setProblem(null);
    setSaved(null);
    const result = await removeBudget({ keyId: apiKey.id });
    const answer = result.data?.removeKeyBudget;
    if (result.error) setProblem(result.error.message);
    else if (answer && answer.__typename !== "RemoveBudgetSuccess") setProblem(answer.message);
    else {
      setSaved("Key budget removed.");
      onChange();
    }
  }

  return (
    <Stack>
      <form onSubmit={saveLimits} aria-label="Rate limits">
        <Group align="flex-end">
          <TextInput label="Requests per minute" placeholder="no limit" value={rpm} onChange={(e) => setRpm(e.currentTarget.value)} />
          <TextInput label="Tokens per minute" placeholder="no limit" value={tpm} onChange={(e) => setTpm(e.currentTarget.value)} />
          <Button type="submit" loading={limitsState.fetching}>Save rate limits</Button>
        </Group>
      </form>
      <form onSubmit={saveBudget} aria-label="Key budget">
        <Stack>
          <Text fw={600}>This key's own budget (on top of the client's)</Text>
          <BudgetFields draft={draft} onChange={setDraft} currency={currency} />
          <Group>
            <Button type="submit" loading={budgetState.fetching}>Save key budget</Button>
            {apiKey.budget && (
              <Button variant="subtle" color="red" onClick={dropBudget} loading={removeState.fetching}>Remove key budget</Button>
            )}
          </Group>
        </Stack>
      </form>
      {saved && <Text c="teal.7" role="status">{saved}</Text>}
      <MutationError message={problem} />
    </Stack>
  );
}
