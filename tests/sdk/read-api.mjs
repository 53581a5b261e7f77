// The official WorkOS Node SDK pointed at DirectorySync's read API instead of api.workos.com: the calls an application
// makes, run as it makes them. Prints one JSON object of what the SDK returned; SdkTests.cs asserts it.
// Settings come from the environment: READ_API_HOST, READ_API_PORT, READ_API_KEY, and the ids to read (DIRECTORY, USER, GROUP).
import { NotFoundException, UnauthorizedException, WorkOS } from '@workos-inc/node';

const { READ_API_HOST, READ_API_PORT, READ_API_KEY, DIRECTORY, USER, GROUP } = process.env;
const connect = (key) => new WorkOS(key, { apiHostname: READ_API_HOST, port: Number(READ_API_PORT), https: false });
const workos = connect(READ_API_KEY);

/** The SDK's exception class name and status, or what came back instead of an exception. */
async function failure(call) {
  try {
    await call();
    return 'no exception';
  } catch (e) {
    const known = e instanceof NotFoundException || e instanceof UnauthorizedException;
    return `${known ? e.name : `unexpected ${e?.constructor?.name}`} ${e?.status}`;
  }
}

const directories = await workos.directorySync.listDirectories();
const users = await (await workos.directorySync.listUsers({ directory: DIRECTORY })).autoPagination();
const groupsOfUser = await workos.directorySync.listGroups({ user: USER });
const user = await workos.directorySync.getUser(USER);
const group = await workos.directorySync.getGroup(GROUP);

console.log(JSON.stringify({
  directories: directories.data.map((d) => ({ id: d.id, state: d.state, name: d.name, domain: d.domain })),
  users: users.map((u) => u.id),
  groupsOfUser: groupsOfUser.data.map((g) => g.id),
  user: {
    id: user.id,
    directoryId: user.directoryId,
    email: user.email,
    state: user.state,
    role: user.role?.slug,
    roles: user.roles?.map((r) => r.slug),
    groups: user.groups.map((g) => g.id),
    customAttributes: user.customAttributes,
    createdAt: user.createdAt,
  },
  group: { id: group.id, name: group.name, directoryId: group.directoryId },
  missingUser: await failure(() => workos.directorySync.getUser('directory_user_not_in_the_mirror')),
  missingGroup: await failure(() => workos.directorySync.getGroup('directory_group_not_in_the_mirror')),
  wrongKey: await failure(() => connect('sk_not_a_key_of_this_directorysync_0000000000').directorySync.listDirectories()),
}));
