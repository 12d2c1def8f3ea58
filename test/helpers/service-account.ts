/** Make sure the `blockhost` system user and group exist, as the package's postinst would create them. */
export function ensureServiceAccount(): { uid: number; gid: number } {
  const lookup = (db: string) => Bun.spawnSync(["getent", db, "blockhost"]).stdout.toString().split(":");
  if (lookup("group").length < 3) Bun.spawnSync(["groupadd", "--system", "blockhost"]);
  if (lookup("passwd").length < 3) {
    Bun.spawnSync([
      "useradd",
      "--system",
      "--gid",
      "blockhost",
      "--no-create-home",
      "--home-dir",
      "/var/lib/blockhost",
      "--shell",
      "/usr/sbin/nologin",
      "blockhost",
    ]);
  }
  const user = lookup("passwd");
  const group = lookup("group");
  if (user.length < 3 || group.length < 3) throw new Error("could not create the blockhost service account");
  return { uid: Number(user[2]), gid: Number(group[2]) };
}
