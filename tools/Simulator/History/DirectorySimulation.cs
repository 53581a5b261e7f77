using DirectorySync.Simulator.Mirror;

namespace DirectorySync.Simulator.History;

/// <summary>What a directory is, fixed for its life.</summary>
internal sealed record DirectoryProfile(
    string Id,
    string OrganizationId,
    string Name,
    string Type,
    string ExternalKey,
    string DomainId,
    string Domain,
    long CreatedAtMs);

/// <summary>
/// One directory in the simulated IdP and the events WorkOS sends about it: activation, the initial sync (users,
/// groups, memberships), then day-to-day churn. It keeps WorkOS's view of the directory, so every event is one
/// WorkOS could send: nothing about an object after its deletion, memberships only between existing users and groups.
/// </summary>
internal sealed class DirectorySimulation
{
    private enum Phase { Activation, Users, Groups, Memberships, Churn, Done }

    private enum Change
    {
        Attributes, Role, Deactivation, Reactivation, HardDelete, GroupRename,
        MembershipAdd, MembershipRemove, GroupDelete, GroupCreate, EntraHire,
    }

    // How often each kind of change happens, in percent.
    private static readonly (Change Change, int Weight)[] s_changeWeights =
    [
        (Change.Attributes, 27), (Change.Role, 8), (Change.Deactivation, 7), (Change.Reactivation, 5),
        (Change.HardDelete, 4), (Change.GroupRename, 4), (Change.MembershipAdd, 20), (Change.MembershipRemove, 14),
        (Change.GroupDelete, 1), (Change.GroupCreate, 3), (Change.EntraHire, 7),
    ];

    private readonly HistoryOptions _options;
    private readonly Random _random;
    private readonly HistoryRecorder _recorder;
    private readonly IReadOnlyList<string> _customerKeys;
    private readonly RandomPool<SimulatedUser> _activeUsers = new();
    private readonly RandomPool<SimulatedUser> _inactiveUsers = new();
    private readonly RandomPool<SimulatedGroup> _groups = new();
    private readonly List<SimulatedUser> _initialUsers = [];
    private readonly HashSet<string> _emailsInUse = new(StringComparer.Ordinal);
    private readonly HashSet<string> _groupNamesInUse = new(StringComparer.Ordinal);
    private readonly Queue<SimulatedGroup> _pendingMemberships = new();
    private Phase _phase = Phase.Activation;
    private int _membershipCursor;
    private int _churnEvents;
    private int _nextIdpNumber = 1000;
    private int _nextEmployeeNumber = 1;

    public DirectorySimulation(int index, HistoryOptions options, Random random, HistoryRecorder recorder)
    {
        _options = options;
        _random = random;
        _recorder = recorder;
        var (company, domain) = SampleNames.Companies[index % SampleNames.Companies.Length];
        if (index >= SampleNames.Companies.Length)
        {
            var round = index / SampleNames.Companies.Length + 1;
            company = $"{company} {round}";
            domain = domain.Replace(".", $"-{round}.", StringComparison.Ordinal);
        }
        var type = SampleNames.DirectoryTypes[random.Next(SampleNames.DirectoryTypes.Length)];
        // A directory is set up in WorkOS some time before its first sync activates it.
        var createdAt = recorder.NowMs - random.Next(3_600_000, 86_400_000);
        Profile = new DirectoryProfile(
            Id: recorder.Ids.Next("directory_", createdAt),
            OrganizationId: recorder.Ids.Next("org_", createdAt),
            Name: $"{company}'s Directory",
            Type: type,
            ExternalKey: recorder.Ids.Next("", createdAt)[10..],
            DomainId: recorder.Ids.Next("org_domain_", createdAt),
            Domain: domain,
            CreatedAtMs: createdAt);
        _customerKeys = SampleNames.CustomerAttributeKeys.OrderBy(_ => random.Next()).Take(random.Next(2, 4)).ToArray();
    }

    public DirectoryProfile Profile { get; }

    /// <summary>Writes the next event(s) of this directory; false once its history is complete.</summary>
    public bool Step()
    {
        switch (_phase)
        {
            case Phase.Activation:
                Activate();
                _phase = Phase.Users;
                break;
            case Phase.Users:
                _initialUsers.Add(CreateUser(Pace.Burst, complete: true));
                if (_initialUsers.Count >= _options.UsersPerDirectory) _phase = Phase.Groups;
                break;
            case Phase.Groups:
                CreateGroup(Pace.Burst);
                if (_groups.Count >= _options.GroupsPerDirectory) _phase = Phase.Memberships;
                break;
            case Phase.Memberships:
                AddInitialMembership();
                break;
            case Phase.Churn:
                _churnEvents += ChangeSomething();
                if (_churnEvents >= _options.ChurnPerDirectory) _phase = Phase.Done;
                break;
        }
        SkipEmptyPhases();
        return _phase != Phase.Done;
    }

    /// <summary><c>dsync.deleted</c>: the only event WorkOS sends when a directory goes, nothing per user or group.</summary>
    public void Delete()
    {
        _recorder.Begin("dsync.deleted", Pace.Churn);
        EventPayloads.WriteDirectory(_recorder.Writer, Profile, "deleting", activation: false);
        _recorder.End();
        _recorder.Expect(new MirrorChange(MirrorChangeKind.DirectoryDeleted, Profile.Id));
    }

    private void SkipEmptyPhases()
    {
        if (_phase == Phase.Users && _options.UsersPerDirectory == 0) _phase = Phase.Groups;
        if (_phase == Phase.Groups && _options.GroupsPerDirectory == 0) _phase = Phase.Memberships;
        if (_phase == Phase.Memberships && (_options.MembershipsPerUser == 0 || _groups.Count == 0 || _initialUsers.Count == 0))
        {
            _phase = Phase.Churn;
        }
        if (_phase == Phase.Churn && _options.ChurnPerDirectory == 0) _phase = Phase.Done;
    }

    private void Activate()
    {
        _recorder.Begin("dsync.activated", Pace.Burst);
        EventPayloads.WriteDirectory(_recorder.Writer, Profile, "active", activation: true);
        _recorder.End();
        _recorder.Expect(new MirrorChange(MirrorChangeKind.DirectoryActivated, Profile.Id,
            Row: new MirrorDirectory(Profile.Id, Profile.OrganizationId, "active", Profile.Type, Profile.Name)));
    }

    // ---- Initial sync -------------------------------------------------------------------------------------------

    /// <summary>Each initial user joins up to M distinct random groups, one <c>user_added</c> per step.</summary>
    private void AddInitialMembership()
    {
        if (_pendingMemberships.Count == 0)
        {
            var wanted = Math.Min(_options.MembershipsPerUser, _groups.Count);
            var chosen = new HashSet<SimulatedGroup>(ReferenceEqualityComparer.Instance);
            while (chosen.Count < wanted)
            {
                chosen.Add(_groups.Pick(_random));
            }
            foreach (var group in chosen)
            {
                _pendingMemberships.Enqueue(group);
            }
        }
        AddMembership(_initialUsers[_membershipCursor], _pendingMemberships.Dequeue(), Pace.Burst);
        if (_pendingMemberships.Count == 0 && ++_membershipCursor >= _initialUsers.Count)
        {
            _phase = Phase.Churn;
        }
    }

    // ---- Churn ----------------------------------------------------------------------------------------------------

    /// <summary>
    /// One change in the IdP; returns how many events it took. A change that is not possible right now (no inactive
    /// user to bring back, no group to rename) gives way to another.
    /// </summary>
    private int ChangeSomething()
    {
        var remaining = _options.ChurnPerDirectory - _churnEvents;
        while (true)
        {
            var written = PickChange() switch
            {
                Change.Attributes => UpdateAttributes(),
                Change.Role => ChangeRoles(),
                Change.Deactivation => Deactivate(),
                Change.Reactivation => Reactivate(remaining),
                Change.HardDelete => DeleteUser(),
                Change.GroupRename => RenameGroup(),
                Change.MembershipAdd => AddChurnMembership(),
                Change.MembershipRemove => RemoveMembership(),
                Change.GroupDelete => DeleteGroup(),
                Change.GroupCreate => CreateGroup(Pace.Churn),
                Change.EntraHire => remaining >= 2 ? HireThroughEntra() : 0,
                _ => 0,
            };
            if (written > 0) return written;
        }
    }

    private Change PickChange()
    {
        var roll = _random.Next(100);
        foreach (var (change, weight) in s_changeWeights)
        {
            if ((roll -= weight) < 0) return change;
        }
        return Change.Attributes;
    }

    private SimulatedUser? AnyUser() =>
        _inactiveUsers.Count > 0 && (_activeUsers.Count == 0 || _random.Next(10) == 0) ? _inactiveUsers.Pick(_random)
        : _activeUsers.Count > 0 ? _activeUsers.Pick(_random)
        : null;

    /// <summary>Name, email, job title, manager or a customer-defined attribute changes in the IdP.</summary>
    private int UpdateAttributes()
    {
        if (AnyUser() is not { } user) return 0;
        var before = user.Snapshot;
        var after = _random.Next(6) switch
        {
            0 => before with { JobTitle = Pick(SampleNames.JobTitles), Department = Pick(SampleNames.Departments) },
            1 => Renamed(before, before.FirstName, Pick(SampleNames.LastNames)),
            2 => before with { FirstName = Pick(SampleNames.FirstNames) },
            3 => before with { ManagerEmail = _activeUsers.Count > 0 ? _activeUsers.Pick(_random).Snapshot.WorkEmail : null },
            4 => before with { PersonalEmail = before.PersonalEmail is null || before.PrimaryEmailOnlyInList ? PersonalEmail(before) : null },
            _ => WithCustomerAttributeChanged(before),
        };
        if (after == before) return 0;
        WriteUserUpdate(user, after, Pace.Churn);
        return 1;
    }

    private int ChangeRoles()
    {
        if (_activeUsers.Count == 0) return 0;
        var user = _activeUsers.Pick(_random);
        var primary = PickOtherThan(SampleNames.RoleSlugs, user.Snapshot.PrimaryRole);
        var secondary = _random.Next(4) == 0 ? PickOtherThan(SampleNames.RoleSlugs, primary) : null;
        WriteUserUpdate(user, user.Snapshot with { PrimaryRole = primary, SecondaryRole = secondary }, Pace.Churn);
        return 1;
    }

    private int Deactivate()
    {
        if (_activeUsers.Count == 0) return 0;
        var user = _activeUsers.Pick(_random);
        _activeUsers.Remove(user);
        _inactiveUsers.Add(user);
        WriteUserUpdate(user, user.Snapshot with { State = "inactive" }, Pace.Churn);
        return 1;
    }

    /// <summary>The same user id comes back active; it may join groups again right away.</summary>
    private int Reactivate(int remaining)
    {
        if (_inactiveUsers.Count == 0) return 0;
        var user = _inactiveUsers.Pick(_random);
        _inactiveUsers.Remove(user);
        _activeUsers.Add(user);
        WriteUserUpdate(user, user.Snapshot with { State = "active" }, Pace.Churn);
        var written = 1;
        var joins = Math.Min(_random.Next(3), remaining - 1);
        for (var i = 0; i < joins && _groups.Count > 0; i++)
        {
            var group = _groups.Pick(_random);
            if (user.Groups.Contains(group)) continue;
            AddMembership(user, group, Pace.FollowUp);
            written++;
        }
        return written;
    }

    /// <summary><c>dsync.user.deleted</c>; WorkOS sends no <c>user_removed</c> for the user's groups.</summary>
    private int DeleteUser()
    {
        if (AnyUser() is not { } user) return 0;
        (user.Snapshot.State == "active" ? _activeUsers : _inactiveUsers).Remove(user);
        foreach (var group in user.Groups)
        {
            group.Members.Remove(user);
        }
        user.Groups.Clear();
        _recorder.Begin("dsync.user.deleted", Pace.Churn);
        // WorkOS reports the user as it was when it went: inactive.
        user.Snapshot = user.Snapshot with { State = "inactive", UpdatedAtMs = _recorder.NowMs };
        EventPayloads.WriteUser(_recorder.Writer, user.Snapshot, _recorder.Generation);
        _recorder.End();
        _recorder.Expect(new MirrorChange(MirrorChangeKind.UserDeleted, user.Snapshot.Id));
        return 1;
    }

    private int RenameGroup()
    {
        if (_groups.Count == 0) return 0;
        var group = _groups.Pick(_random);
        var previousName = group.Snapshot.Name;
        _groupNamesInUse.Remove(previousName);
        _recorder.Begin("dsync.group.updated", Pace.Churn);
        group.Snapshot = group.Snapshot with { Name = NewGroupName(), UpdatedAtMs = _recorder.NowMs };
        EventPayloads.WriteGroup(_recorder.Writer, group.Snapshot, _recorder.Generation, previousName);
        _recorder.End();
        ExpectGroup(group);
        return 1;
    }

    private int AddChurnMembership()
    {
        if (_activeUsers.Count == 0 || _groups.Count == 0) return 0;
        var user = _activeUsers.Pick(_random);
        var group = _groups.Pick(_random);
        if (user.Groups.Contains(group)) return 0;
        AddMembership(user, group, Pace.Churn);
        return 1;
    }

    private int RemoveMembership()
    {
        if (_activeUsers.Count == 0) return 0;
        var user = _activeUsers.Pick(_random);
        if (user.Groups.Count == 0) return 0;
        var group = user.Groups.ElementAt(_random.Next(user.Groups.Count));
        user.Groups.Remove(group);
        group.Members.Remove(user);
        WriteMembershipEvent("dsync.group.user_removed", user, group, Pace.Churn);
        _recorder.Expect(new MirrorChange(MirrorChangeKind.UserRemoved, user.Snapshot.Id, group.Snapshot.Id));
        return 1;
    }

    /// <summary><c>dsync.group.deleted</c>; WorkOS sends no <c>user_removed</c> for its members.</summary>
    private int DeleteGroup()
    {
        if (_groups.Count == 0) return 0;
        var group = _groups.Pick(_random);
        _groups.Remove(group);
        _groupNamesInUse.Remove(group.Snapshot.Name);
        foreach (var member in group.Members)
        {
            member.Groups.Remove(group);
        }
        group.Members.Clear();
        _recorder.Begin("dsync.group.deleted", Pace.Churn);
        EventPayloads.WriteGroup(_recorder.Writer, group.Snapshot, _recorder.Generation);
        _recorder.End();
        _recorder.Expect(new MirrorChange(MirrorChangeKind.GroupDeleted, group.Snapshot.Id));
        return 1;
    }

    /// <summary>Entra ID provisions a user bare, then fills in the rest a moment later (FACTS §4).</summary>
    private int HireThroughEntra()
    {
        var user = CreateUser(Pace.Churn, complete: false);
        var complete = user.Snapshot with
        {
            JobTitle = Pick(SampleNames.JobTitles),
            Department = Pick(SampleNames.Departments),
            ManagerEmail = _activeUsers.Count > 1 ? _activeUsers.Pick(_random).Snapshot.WorkEmail : null,
        };
        WriteUserUpdate(user, complete, Pace.FollowUp);
        return 2;
    }

    // ---- Event writing --------------------------------------------------------------------------------------------

    private SimulatedUser CreateUser(Pace pace, bool complete)
    {
        _recorder.Begin("dsync.user.created", pace);
        var firstName = Pick(SampleNames.FirstNames);
        var lastName = Pick(SampleNames.LastNames);
        var onlyInList = _random.Next(50) == 0;
        var snapshot = new UserSnapshot
        {
            Id = _recorder.Ids.Next("directory_user_", _recorder.NowMs),
            IdpId = (_nextIdpNumber++).ToString(System.Globalization.CultureInfo.InvariantCulture),
            DirectoryId = Profile.Id,
            OrganizationId = Profile.OrganizationId,
            FirstName = firstName,
            LastName = lastName,
            WorkEmail = NewWorkEmail(firstName, lastName),
            PrimaryEmailOnlyInList = onlyInList,
            JobTitle = complete ? Pick(SampleNames.JobTitles) : null,
            Department = complete ? Pick(SampleNames.Departments) : null,
            ManagerEmail = complete && _activeUsers.Count > 0 && _random.Next(10) > 0 ? _activeUsers.Pick(_random).Snapshot.WorkEmail : null,
            EmployeeNumber = $"E{_nextEmployeeNumber++:D6}",
            State = "active",
            PrimaryRole = _random.Next(10) == 0 ? "admin" : "member",
            SecondaryRole = _random.Next(8) == 0 ? "viewer" : null,
            CustomerAttributeKeys = _customerKeys,
            CustomerAttributes = _customerKeys.Select(key => _random.Next(100) < 85 ? CustomerValue(key) : null).ToArray(),
            CreatedAtMs = _recorder.NowMs,
            UpdatedAtMs = _recorder.NowMs,
        };
        if (onlyInList || _random.Next(4) == 0)
        {
            snapshot = snapshot with { PersonalEmail = PersonalEmail(snapshot) };
        }
        var user = new SimulatedUser(snapshot);
        _activeUsers.Add(user);
        _recorder.Writer.WriteRawValue(user.Json(_recorder.Generation), skipInputValidation: true);
        _recorder.End();
        ExpectUser(user);
        return user;
    }

    private int CreateGroup(Pace pace)
    {
        _recorder.Begin("dsync.group.created", pace);
        var group = new SimulatedGroup(new GroupSnapshot(
            Id: _recorder.Ids.Next("directory_group_", _recorder.NowMs),
            IdpId: _recorder.Ids.Next("", _recorder.NowMs)[12..].ToLowerInvariant(),
            DirectoryId: Profile.Id,
            OrganizationId: Profile.OrganizationId,
            Name: NewGroupName(),
            CreatedAtMs: _recorder.NowMs,
            UpdatedAtMs: _recorder.NowMs));
        _groups.Add(group);
        _recorder.Writer.WriteRawValue(group.Json(_recorder.Generation), skipInputValidation: true);
        _recorder.End();
        ExpectGroup(group);
        return 1;
    }

    private void WriteUserUpdate(SimulatedUser user, UserSnapshot changed, Pace pace)
    {
        var before = user.Snapshot;
        _recorder.Begin("dsync.user.updated", pace);
        user.Snapshot = changed with { UpdatedAtMs = _recorder.NowMs };
        EventPayloads.WriteUser(_recorder.Writer, user.Snapshot, _recorder.Generation, previous: before);
        _recorder.End();
        ExpectUser(user);
    }

    private void AddMembership(SimulatedUser user, SimulatedGroup group, Pace pace)
    {
        user.Groups.Add(group);
        group.Members.Add(user);
        WriteMembershipEvent("dsync.group.user_added", user, group, pace);
        _recorder.Expect(new MirrorChange(MirrorChangeKind.UserAdded, user.Snapshot.Id, group.Snapshot.Id));
    }

    /// <summary><c>{ directory_id, user, group }</c>, with both objects as they are now (and no id of its own).</summary>
    private void WriteMembershipEvent(string eventType, SimulatedUser user, SimulatedGroup group, Pace pace)
    {
        _recorder.Begin(eventType, pace);
        var writer = _recorder.Writer;
        writer.WriteStartObject();
        writer.WriteString("directory_id"u8, Profile.Id);
        writer.WritePropertyName("user"u8);
        writer.WriteRawValue(user.Json(_recorder.Generation), skipInputValidation: true);
        writer.WritePropertyName("group"u8);
        writer.WriteRawValue(group.Json(_recorder.Generation), skipInputValidation: true);
        writer.WriteEndObject();
        _recorder.End();
    }

    private void ExpectUser(SimulatedUser user)
    {
        var s = user.Snapshot;
        var row = new MirrorUser(s.Id, s.DirectoryId, s.WorkEmail, s.FirstName, s.LastName, s.State, s.RoleSlugs);
        _recorder.Expect(new MirrorChange(MirrorChangeKind.UserWritten, s.Id, Row: row));
    }

    private void ExpectGroup(SimulatedGroup group)
    {
        var row = new MirrorGroup(group.Snapshot.Id, group.Snapshot.DirectoryId, group.Snapshot.Name);
        _recorder.Expect(new MirrorChange(MirrorChangeKind.GroupWritten, row.WorkosGroupId, Row: row));
    }

    // ---- Realistic values -----------------------------------------------------------------------------------------

    private string Pick(string[] values) => values[_random.Next(values.Length)];

    private string PickOtherThan(string[] values, string current)
    {
        string picked;
        do picked = Pick(values); while (picked == current);
        return picked;
    }

    /// <summary>A marriage, a correction: the last name changes and the work address follows it.</summary>
    private UserSnapshot Renamed(UserSnapshot user, string firstName, string lastName)
    {
        _emailsInUse.Remove(user.WorkEmail);
        return user with { FirstName = firstName, LastName = lastName, WorkEmail = NewWorkEmail(firstName, lastName) };
    }

    private UserSnapshot WithCustomerAttributeChanged(UserSnapshot user)
    {
        if (_customerKeys.Count == 0) return user;
        var values = user.CustomerAttributes.ToArray();
        var index = _random.Next(values.Length);
        var value = CustomerValue(_customerKeys[index]);
        if (value == values[index]) return user;
        values[index] = value;
        return user with { CustomerAttributes = values };
    }

    private string NewWorkEmail(string firstName, string lastName)
    {
        var local = $"{EmailLocalPart(firstName)}.{EmailLocalPart(lastName)}";
        var email = $"{local}@{Profile.Domain}";
        for (var n = 2; !_emailsInUse.Add(email); n++)
        {
            email = $"{local}{n}@{Profile.Domain}";
        }
        return email;
    }

    private string PersonalEmail(UserSnapshot user) =>
        $"{EmailLocalPart(user.FirstName)}{EmailLocalPart(user.LastName)}{_random.Next(10, 99)}@{Pick(["gmail.com", "outlook.com", "proton.me"])}";

    private string NewGroupName()
    {
        while (true)
        {
            var name = Pick(SampleNames.GroupThemes) + Pick(SampleNames.GroupSuffixes);
            if (_groupNamesInUse.Count >= SampleNames.GroupThemes.Length * SampleNames.GroupSuffixes.Length / 2)
            {
                name = $"{name} {_random.Next(2, 10_000)}";
            }
            if (_groupNamesInUse.Add(name)) return name;
        }
    }

    private string CustomerValue(string key) => key switch
    {
        "cost_center" => $"CC-{_random.Next(1000, 9999)}",
        "office_location" => Pick(SampleNames.Offices),
        "employee_type" => Pick(SampleNames.EmployeeTypes),
        "badge_id" => _random.Next(100_000, 999_999).ToString(System.Globalization.CultureInfo.InvariantCulture),
        "pronouns" => Pick(SampleNames.Pronouns),
        "division" => Pick(SampleNames.Divisions),
        "hire_date" => DateOnly.FromDayNumber(737_000 + _random.Next(3_000)).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
        "tshirt_size" => Pick(SampleNames.TshirtSizes),
        _ => _random.Next(1000).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>IdPs build addresses from names without accents, spaces or apostrophes.</summary>
    private static string EmailLocalPart(string name)
    {
        Span<char> local = stackalloc char[name.Length];
        var length = 0;
        foreach (var c in name.ToLowerInvariant())
        {
            var plain = c switch
            {
                'á' or 'à' or 'â' or 'ä' or 'ã' or 'å' => 'a',
                'é' or 'è' or 'ê' or 'ë' => 'e',
                'í' or 'ì' or 'î' or 'ï' => 'i',
                'ó' or 'ò' or 'ô' or 'ö' or 'õ' or 'ø' => 'o',
                'ú' or 'ù' or 'û' or 'ü' => 'u',
                'ç' => 'c',
                'ñ' => 'n',
                'ż' or 'ź' => 'z',
                _ => c,
            };
            if (plain is >= 'a' and <= 'z' or >= '0' and <= '9') local[length++] = plain;
        }
        return new string(local[..length]);
    }
}
