/** `blockhost pam`: the in-VM wallet login run by pam_exec. */
import { defineCommand } from "citty";
import { writeOut } from "../core/stdio.ts";

const challenge = defineCommand({
  meta: {
    name: "challenge",
    description: "Issue a one-time code for the PAM user and print the login text (pam_exec … stdout)",
  },
  async run() {
    const { runChallenge } = await import("./challenge.ts");
    await writeOut(runChallenge());
  },
});

const verify = defineCommand({
  meta: {
    name: "verify",
    description:
      "Check the signature read from stdin or from the signing page's callback (pam_exec … expose_authtok); exit 0 only on success",
  },
  async run() {
    const { runVerify } = await import("./verify.ts");
    await runVerify();
  },
});

/** `blockhost pam`: the two halves of the in-VM wallet login, run by pam_exec from /etc/pam.d/sshd. */
export default defineCommand({
  meta: { name: "pam", description: "Wallet-signature SSH login inside a VM (run by pam_exec from /etc/pam.d/sshd)" },
  subCommands: { challenge, verify },
});
