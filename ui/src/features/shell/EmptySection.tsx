export function EmptySection({ title, what }: { title: string; what: string }) {
  return (
    <section>
      <h1>{title}</h1>
      <div className="empty" role="status">
        <p>Nothing here yet.</p>
        <p className="muted">{what}</p>
      </div>
    </section>
  );
}
