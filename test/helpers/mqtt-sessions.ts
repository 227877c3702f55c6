import mqtt from 'mqtt';

/**
 * Ends persistent MQTT sessions a test made on a shared broker: connecting with a clean start
 * and no session expiry replaces the stored session with one the broker drops on disconnect.
 */
export async function forgetMqttSessions(url: string, clientIds: string[]): Promise<void> {
  for (const clientId of clientIds) {
    const client = await mqtt.connectAsync(url, { protocolVersion: 5, clientId, clean: true });
    await client.endAsync();
  }
}
