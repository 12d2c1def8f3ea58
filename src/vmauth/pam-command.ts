/** `blockhost pam`: the in-VM wallet login run by pam_exec. */
import { defineCommand } from "citty";
import { writeOut } from "../core/stdio.ts";

const challenge = defineCommand({
  meta: {
    name: "challenge",
    description: "Print a one-time login code and the signing page's address for the user logging in over SSH",
    examples: ["PAM_USER=alice blockhost pam challenge"],
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
      "Accept the login (exit 0) only if the signature typed at the prompt, or sent by the signing page, is the user's wallet's",
    examples: ["printf '0x…signature' | PAM_USER=alice blockhost pam verify"],
  },
  async run() {
    const { runVerify } = await import("./verify.ts");
    await runVerify();
  },
});

/** `blockhost pam`: the two halves of the in-VM wallet login, run by pam_exec from /etc/pam.d/sshd. */
export default defineCommand({
  meta: {
    name: "pam",
    description: "SSH login with a wallet signature inside a customer VM (sshd runs these through pam_exec)",
    examples: ["blockhost pam challenge"],
  },
  subCommands: { challenge, verify },
});
