/** A machine's state value as one readable name: `running.reconciling.grace`, parallel regions joined by commas. */
export const stateName = (value: unknown): string =>
  typeof value === "string"
    ? value
    : Object.entries(value as Record<string, unknown>)
        .map(([key, inner]) => `${key}.${stateName(inner)}`)
        .join(",")
