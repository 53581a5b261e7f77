using DirectorySync.Events;
using DirectorySync.Feed;
using DirectorySync.Storage;
using DirectorySync.Sync;
using DirectorySync.WorkOS;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DirectorySync.Grains;

public enum ReconcilePhase { Idle, Directory, Groups, Users, Memberships, Deletions, ApplyHeld }

/// <summary>A run in progress, as grain state: enough to resume it page by page on any silo.</summary>
[GenerateSerializer]
public sealed class ReconcileState
{
    [Id(0)] public long RunId { get; set; }
    [Id(1)] public ReconcilePhase Phase { get; set; }
    [Id(2)] public bool Forced { get; set; }
    /// <summary>When the listing began: what it shows is WorkOS at that time.</summary>
    [Id(3)] public DateTimeOffset ListedAt { get; set; }
    /// <summary>The next page of the current listing (WorkOS's <c>after</c> cursor).</summary>
    [Id(4)] public string? After { get; set; }
    /// <summary>The last group whose members were reconciled.</summary>
    [Id(5)] public string? Group { get; set; }
    [Id(6)] public ReconcileReport Report { get; set; } = new();
    /// <summary>WorkOS says the directory is <c>linked</c>: deleting what it no longer lists is allowed.</summary>
    [Id(7)] public bool Linked { get; set; }
    /// <summary>Some listed entry could not be read: the listing cannot prove anything is gone.</summary>
    [Id(8)] public bool Incomplete { get; set; }
    [Id(9)] public int Failures { get; set; }
    [Id(10)] public string? LastError { get; set; }

    /// <summary>A copy to go back to: a step that fails anywhere, its saves included, is done again from it.</summary>
    public ReconcileState Copy()
    {
        var copy = (ReconcileState)MemberwiseClone();
        copy.Report = Report with { };
        return copy;
    }
}

/// <summary>
/// One directory's reconciliation with WorkOS's REST API, one page per timer tick (each its own turn, so the grain
/// answers between pages and a stopping silo can hand it over). Every listed object is compared with its mirror row
/// and only what differs is sent to the directory's grain, which decides it like an event versioned by the object's
/// <c>updated_at</c> (memberships and removals by the listing's start). Deletions wait for the whole listing, then for
/// the guards (FACTS §9): the listing completed and was readable, the directory is linked, and they stay under
/// <c>WorkOS__MaxDeletionPercent</c> of the directory's rows; otherwise the plan is kept for an operator to force.
/// </summary>
public sealed partial class ReconcileGrain(
    [PersistentState("reconcile", GrainStorage.Name)] IPersistentState<ReconcileState> state,
    ReconcileStore store, WorkOSClient workos, WorkOSOptions options, IOptions<SyncOptions> syncOptions, ILogger<ReconcileGrain> logger)
    : Grain, IReconcileGrain, IRemindable
{
    private const string ResumeReminder = "reconcile-resume";
    private const int ApplyChunk = 500;
    private static readonly TimeSpan BackfillRequestQuiet = TimeSpan.FromMinutes(1);
    private static readonly ReconcileProgress NoRun = new(null, nameof(ReconcilePhase.Idle), null, 0);

    private IGrainTimer? _timer;
    /// <summary>What <see cref="ProgressAsync"/> answers: moved on only once the run's report is saved as far.</summary>
    private ReconcileProgress _progress = NoRun;
    private DateTimeOffset _lastBackfillRequest = DateTimeOffset.MinValue;

    private string DirectoryId => this.GetPrimaryKeyString();
    private ReconcileState Run => state.State;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        PublishProgress();
        if (Run.Phase != ReconcilePhase.Idle) StartStepping();
        return Task.CompletedTask;
    }

    public async Task<long> StartAsync(string reason, bool force)
    {
        if (!options.IsConfigured) throw new WorkOSNotConfiguredException();
        if (Run.Phase != ReconcilePhase.Idle)
        {
            if (force && !Run.Forced)
            {
                Run.Forced = true;
                await state.WriteStateAsync();
            }
            return Run.RunId;
        }
        if (force && (await store.RunsAsync(DirectoryId, 1)).FirstOrDefault() is { Status: "held" } held)
        {
            // The operator saw this plan: apply it as planned (versioned by its listing, so later changes still win).
            state.State = new ReconcileState
            {
                RunId = held.RunId, Phase = ReconcilePhase.ApplyHeld, Forced = true, ListedAt = held.ListedAt, Report = held.Report,
            };
            await store.ResumeRunAsync(held.RunId);
            LogForced(DirectoryId, held.RunId, held.Report.HeldBack);
            return await SaveAndStepAsync();
        }
        return await StartRunAsync(await store.MirrorHasDirectoryAsync(DirectoryId) ? "reconcile" : "backfill", reason, force);
    }

    private async Task<long> StartRunAsync(string kind, string reason, bool force)
    {
        var listedAt = DateTimeOffset.UtcNow;
        state.State = new ReconcileState
        {
            RunId = await store.StartRunAsync(DirectoryId, kind, reason, force, listedAt),
            Phase = ReconcilePhase.Directory, Forced = force, ListedAt = listedAt,
        };
        LogStarted(kind, DirectoryId, Run.RunId, reason);
        return await SaveAndStepAsync();
    }

    /// <summary>Saves the run just set up and starts stepping it.</summary>
    private async Task<long> SaveAndStepAsync()
    {
        await state.WriteStateAsync();
        PublishProgress();
        // Resumes the run on any silo if this one stops or a step fails (as a directory cleanup is resumed).
        var resume = syncOptions.Value.CleanupRetryPeriod;
        await this.RegisterOrUpdateReminder(ResumeReminder, resume, resume);
        StartStepping();
        return Run.RunId;
    }

    public async Task BackfillIfMissingAsync(string reason)
    {
        if (!options.IsConfigured || Run.Phase != ReconcilePhase.Idle) return;
        // Every event of an unknown directory asks: one look at the mirror a minute is plenty.
        if (DateTimeOffset.UtcNow - _lastBackfillRequest < BackfillRequestQuiet) return;
        _lastBackfillRequest = DateTimeOffset.UtcNow;
        if (await store.MirrorHasDirectoryAsync(DirectoryId)) return;
        await StartRunAsync("backfill", reason, force: false);
    }

    public Task<ReconcileProgress> ProgressAsync() => Task.FromResult(_progress);

    // Called only once the run's report row is as far along as its state: a status that asks this grain and then
    // Postgres never shows a phase ahead of its counts.
    private void PublishProgress() => _progress = Run.Phase == ReconcilePhase.Idle ? NoRun
        : new ReconcileProgress(Run.RunId, Run.Phase.ToString(), Run.LastError, Run.Failures);

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (Run.Phase == ReconcilePhase.Idle)
        {
            if (await this.GetReminder(ResumeReminder) is { } reminder) await this.UnregisterReminder(reminder);
            return;
        }
        StartStepping();
    }

    private void StartStepping() => _timer ??= this.RegisterGrainTimer(StepAsync,
        new GrainTimerCreationOptions(TimeSpan.Zero, TimeSpan.FromMilliseconds(1)) { KeepAlive = true });

    private void StopStepping()
    {
        _timer?.Dispose();
        _timer = null;
    }

    private async Task StepAsync(CancellationToken cancellationToken)
    {
        // A step that fails, or whose report or state cannot be saved, is done again from where it began: applying its
        // objects again is versioned (harmless), and its counts are not counted twice nor lost.
        var run = Run;
        var before = run.Copy();
        try
        {
            await (Run.Phase switch
            {
                ReconcilePhase.Directory => DirectoryStepAsync(cancellationToken),
                ReconcilePhase.Groups => GroupsStepAsync(cancellationToken),
                ReconcilePhase.Users => UsersStepAsync(cancellationToken),
                ReconcilePhase.Memberships => MembershipsStepAsync(cancellationToken),
                ReconcilePhase.Deletions => DeletionsStepAsync(),
                ReconcilePhase.ApplyHeld => ApplyPlanAsync(),
                _ => Task.CompletedTask,
            });
            if (Run.Phase == ReconcilePhase.Idle)
            {
                StopStepping();
                return;
            }
            Run.Failures = 0;
            // The operator's status shows a running run's counts so far, not zeros until it ends.
            await store.SaveReportAsync(Run.RunId, Run.Report);
            PublishProgress();
            await state.WriteStateAsync();
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // WorkOS or Postgres is away (or answered 429 for longer than the client waits): nothing is deleted, the
            // run keeps its place, and the reminder resumes it (DirectorySync__CleanupRetryPeriod).
            StopStepping();
            // Unless the run had finished (its row says so) and only what follows failed.
            if (ReferenceEquals(state.State, run)) state.State = before;
            Run.Failures++;
            Run.LastError = e.Message;
            LogStepFailed(DirectoryId, Run.RunId, Run.Phase, Run.Failures, e.Message);
            PublishProgress();
            await state.WriteStateAsync();
        }
    }

    private async Task DirectoryStepAsync(CancellationToken cancellationToken)
    {
        var listed = await workos.GetDirectoryAsync(DirectoryId, cancellationToken);
        if (listed is null)
        {
            // WorkOS no longer has it: only dsync.deleted removes a directory, never a listing.
            Run.Report.Note = "WorkOS does not list this directory (404); nothing was changed";
            await FinishAsync("held");
            return;
        }
        Run.Linked = listed.State == "linked";
        await ApplyAsync([Snapshot(SyncEventKind.DirectoryActivated, listed.Directory.Id, directory: listed.Directory)]);
        (Run.Phase, Run.After) = (ReconcilePhase.Groups, null);
    }

    private async Task GroupsStepAsync(CancellationToken cancellationToken)
    {
        var page = await workos.ListGroupsAsync(DirectoryId, Run.After, cancellationToken: cancellationToken);
        var groups = Readable(page).Select(g => Snapshot(SyncEventKind.GroupUpdated, g.Id, group: g)).ToList();
        Run.Report.GroupsListed += groups.Count;
        await RepairAsync("group", groups);
        if ((Run.After = page.After) is null) Run.Phase = ReconcilePhase.Users;
    }

    private async Task UsersStepAsync(CancellationToken cancellationToken)
    {
        var page = await workos.ListUsersAsync(DirectoryId, null, Run.After, cancellationToken: cancellationToken);
        var users = Readable(page).Select(u => Snapshot(SyncEventKind.UserUpdated, u.Id, user: u)).ToList();
        Run.Report.UsersListed += users.Count;
        await RepairAsync("user", users);
        if ((Run.After = page.After) is null) Run.Phase = ReconcilePhase.Memberships;
    }

    /// <summary>One group's members per step: those the mirror lacks are added, those it holds beyond them planned for removal.</summary>
    private async Task MembershipsStepAsync(CancellationToken cancellationToken)
    {
        var group = await store.NextListedGroupAsync(Run.RunId, Run.Group);
        if (group is null)
        {
            Run.Phase = ReconcilePhase.Deletions;
            return;
        }
        var listed = new HashSet<string>(StringComparer.Ordinal);
        var readable = true;
        await foreach (var page in workos.ListAllUsersAsync(DirectoryId, group, cancellationToken))
        {
            readable &= page.Items.All(i => i.Value is not null);
            listed.UnionWith(Readable(page).Select(u => u.Id));
        }
        Run.Report.MembershipsListed += listed.Count;

        var shown = await store.MembersAsync(DirectoryId, group);
        var missing = listed.Where(u => !shown.Contains(u)).ToList();
        if (missing.Count > 0)
        {
            var outcomes = await ApplyAsync(missing.Select(u => Snapshot(SyncEventKind.GroupUserAdded, MembershipKey.For(group, u),
                membership: new GroupMembership(DirectoryId, u, group))).ToList());
            Run.Report.MembershipsAdded += outcomes.Count(o => o == ApplyOutcome.Applied);
        }
        // A member the listing could not read may be one of those the mirror holds: none of this group's can go.
        if (readable) await store.PlanMembershipDeletionsAsync(Run.RunId, group, shown.Where(u => !listed.Contains(u)).ToList());
        Run.Group = group;
    }

    private async Task DeletionsStepAsync()
    {
        var (users, groups, memberships, rows) = await store.PlanDeletionsAsync(DirectoryId, Run.RunId, Run.ListedAt);
        var report = Run.Report;
        (report.UsersToDelete, report.GroupsToDelete, report.MembershipsToDelete, report.MirrorRows) = (users, groups, memberships, rows);
        var limit = options.MaxDeletionPercent;
        var why = report.PlannedDeletions == 0 || Run.Forced ? null
            : Run.Incomplete ? "some listed entries could not be read, so the listing cannot prove the rest is gone"
            : !Run.Linked ? "the directory is not linked in WorkOS"
            : report.PlannedDeletions * 100.0 > limit * (double)rows
                ? $"{report.PlannedDeletions} of {rows} rows ({report.PlannedDeletions * 100.0 / Math.Max(rows, 1):F1}%) is more than WorkOS__MaxDeletionPercent={limit}%"
                : null;
        if (why is null)
        {
            await ApplyPlanAsync();
            return;
        }
        report.HeldBack = report.PlannedDeletions;
        report.Note = $"deletions held: {why}; POST /admin/directories/{DirectoryId}/reconcile?force=true applies them";
        LogHeld(DirectoryId, Run.RunId, users, groups, memberships, why);
        await FinishAsync("held");
    }

    /// <summary>Removes what the run planned, through the directory's grain, versioned by the listing's start.</summary>
    private async Task ApplyPlanAsync()
    {
        var plan = await store.PlanAsync(Run.RunId);
        var deleted = 0;
        foreach (var chunk in plan.Chunk(ApplyChunk))
        {
            var outcomes = await ApplyAsync(chunk.Select(Removal).ToList());
            deleted += outcomes.Count(o => o == ApplyOutcome.Applied);
        }
        (Run.Report.Deleted, Run.Report.HeldBack) = (deleted, 0);
        await FinishAsync("completed");
    }

    private SyncEvent Removal(PlannedDeletion planned) => planned.Kind switch
    {
        "user" => Snapshot(SyncEventKind.UserDeleted, planned.ObjectId, user: new DirectoryUser(planned.ObjectId, DirectoryId,
            null, null, null, null, null, null, null, UserStates.Inactive, [], "{}", "{}")),
        "group" => Snapshot(SyncEventKind.GroupDeleted, planned.ObjectId,
            group: new DirectoryGroup(planned.ObjectId, DirectoryId, null, null, null, "{}")),
        _ => Snapshot(SyncEventKind.GroupUserRemoved, MembershipKey.For(planned.GroupId!, planned.UserId!),
            membership: new GroupMembership(DirectoryId, planned.UserId!, planned.GroupId!)),
    };

    private async Task FinishAsync(string status)
    {
        await store.FinishRunAsync(Run.RunId, status, Run.Report);
        _progress = NoRun;
        if (status == "completed") await store.ConfirmFreshAsync(DirectoryId, Run.ListedAt);
        SyncMetrics.Reconciled(status, Run.Report);
        LogFinished(DirectoryId, Run.RunId, status, Run.Report.UsersListed, Run.Report.GroupsListed, Run.Report.MembershipsListed,
            Run.Report.Repaired, Run.Report.MembershipsAdded, Run.Report.Deleted, Run.Report.HeldBack);
        state.State = new ReconcileState { RunId = Run.RunId };
        await state.WriteStateAsync();
        StopStepping();
        if (await this.GetReminder(ResumeReminder) is { } reminder) await this.UnregisterReminder(reminder);
    }

    /// <summary>Sends the listed objects whose rows differ (or are missing) to the directory's grain.</summary>
    private async Task RepairAsync(string kind, List<SyncEvent> listed)
    {
        if (listed.Count == 0) return;
        var differing = await store.ListedAsync(Run.RunId, kind, listed);
        var items = listed.Where(e => differing.Contains(ObjectKey.Of(e).Id)).ToList();
        if (items.Count == 0) return;
        Run.Report.Differing += items.Count;
        Run.Report.Repaired += (await ApplyAsync(items)).Count(o => o == ApplyOutcome.Applied);
    }

    private IEnumerable<T> Readable<T>(WorkOSPage<T> page) where T : class
    {
        foreach (var item in page.Items)
        {
            if (item.Value is { } value)
            {
                yield return value;
                continue;
            }
            Run.Incomplete = true;
            Run.Report.MalformedItems++;
            LogMalformed(DirectoryId, Run.RunId, item.Failure ?? "unreadable");
        }
    }

    private async Task<ApplyOutcome[]> ApplyAsync(IReadOnlyList<SyncEvent> items) =>
        await GrainFactory.GetGrain<IDirectoryGrain>(DirectoryId).ApplyManyAsync(items);

    /// <summary>A listed object (or one a listing no longer shows) as the directory's grain decides it.</summary>
    private SyncEvent Snapshot(SyncEventKind kind, string objectId, DirectoryData? directory = null, DirectoryUser? user = null,
        DirectoryGroup? group = null, GroupMembership? membership = null) =>
        new($"snapshot/{Run.RunId}/{kind}/{objectId}", ChangeFeedWrites.EventName(kind), kind, Run.ListedAt, "{}",
            directory, user, group, membership, ListedAt: Run.ListedAt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Starting a {Kind} of directory {DirectoryId} (run {RunId}): {Reason}")]
    private partial void LogStarted(string kind, string directoryId, long runId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Directory {DirectoryId} run {RunId}: an operator forced its {Count} held deletions")]
    private partial void LogForced(string directoryId, long runId, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Directory {DirectoryId} run {RunId}: {Phase} failed ({Failures} in a row), resumed by reminder: {Error}")]
    private partial void LogStepFailed(string directoryId, long runId, ReconcilePhase phase, int failures, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Directory {DirectoryId} run {RunId}: a listed entry could not be read ({Failure}); it is left out and nothing will be deleted")]
    private partial void LogMalformed(string directoryId, long runId, string failure);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Directory {DirectoryId} run {RunId}: holding {Users} user, {Groups} group and {Memberships} membership deletions: {Why}")]
    private partial void LogHeld(string directoryId, long runId, int users, int groups, int memberships, string why);

    [LoggerMessage(Level = LogLevel.Information, Message = "Directory {DirectoryId} run {RunId} {Status}: listed {Users} users, {Groups} groups, {Memberships} memberships; repaired {Repaired}, memberships added {Added}, deleted {Deleted}, held back {Held}")]
    private partial void LogFinished(string directoryId, long runId, string status, int users, int groups, int memberships,
        int repaired, int added, int deleted, int held);
}

/// <summary>Reconciliation and the Events API need <c>WorkOS__ApiKey</c>.</summary>
public sealed class WorkOSNotConfiguredException()
    : InvalidOperationException("WorkOS__ApiKey (or WORKOS_API_KEY) is not set: the service runs on webhooks alone and cannot ask WorkOS.");
