export function LagTab() {
  return (
    <main>
      <h1>Lag</h1>
    </main>
  );
}
