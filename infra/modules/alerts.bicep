metadata name = 'ringkeeper alerts'
metadata description = 'Azure Monitor alert rules on the ringkeeper Application Insights data: a failed rotation, a ring in critical health, no successor within the renewal window, fan-out lag, a growing rejected queue and failed function invocations, sent to one action group.'

@description('Required. Name of the Application Insights component the Function App writes to.')
param appInsightsName string

@description('Optional. Location of the log search alert rules (the component\'s region).')
param location string = resourceGroup().location

@description('Optional. Tags of the resources.')
param tags object = {}

@description('Optional. Prefix of the rule and action group names.')
param namePrefix string = 'ringkeeper'

@description('Optional. Resource ID of an existing action group to notify instead of the one created for alertEmailAddress. With neither, the rules fire without notifying anyone.')
param actionGroupResourceId string = ''

@description('Optional. E-mail address of the action group this module creates when actionGroupResourceId is empty.')
param alertEmailAddress string = ''

@description('Optional. Fan-out lag (age of the oldest instruction waiting for the fan-out) above which an alert fires, in seconds.')
@minValue(30)
param fanOutLagThresholdSeconds int = 300

@description('Optional. Hours a ring may go on reporting no successor within its renewal window before an alert fires: longer than the rotation schedule\'s interval (default every 6 h), so only a rotation that keeps failing or is not running fires.')
@minValue(1)
@maxValue(48)
param noSuccessorAlertHours int = 7

// Records written by shared/app/telemetry (one trace per record: the prefix, then a JSON object).
var telemetry = 'traces | where message startswith "ringkeeper.telemetry " | extend r = parse_json(substring(message, 21))'
var createActionGroup = empty(actionGroupResourceId) && !empty(alertEmailAddress)
var actionGroupIds = createActionGroup ? [actionGroup.id] : (empty(actionGroupResourceId) ? [] : [actionGroupResourceId])

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (createActionGroup) {
  name: '${namePrefix}-operators'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: take(namePrefix, 12)
    enabled: true
    emailReceivers: [
      {
        name: 'operators'
        emailAddress: alertEmailAddress
        useCommonAlertSchema: true
      }
    ]
  }
}

// name, severity (0 critical .. 4 verbose), evaluation frequency, window, KQL, measure column, threshold.
var rules = [
  {
    name: 'rotation-failed'
    description: 'A key ring rotation failed (a telemetry record with outcome "failed"), or a rotate-keyrings run failed before reaching a ring.'
    severity: 1
    frequency: 'PT15M'
    window: 'PT1H'
    query: 'let failedRings = ${telemetry} | where tostring(r.event) == "rotation" and tostring(r.outcome) == "failed" | project ring = tostring(r.ring); let failedRuns = requests | where name == "rotate-keyrings" and success == false | project ring = "(run)"; union failedRings, failedRuns | summarize failures = count() by ring'
    measure: 'failures'
    threshold: 0
    dimension: 'ring'
  }
  {
    name: 'ring-critical'
    description: 'A key ring is in critical health (no usable key now or after the propagation window, a key in use that the protector cannot unwrap, ...): its latest health record.'
    severity: 1
    frequency: 'PT5M'
    window: 'PT15M'
    query: '${telemetry} | where tostring(r.event) == "health" and tostring(r.component) == "ring" | summarize arg_max(timestamp, r) by ring = tostring(r.name) | where tostring(r.health) == "critical" | summarize rings = count() by ring'
    measure: 'rings'
    threshold: 0
    dimension: 'ring'
  }
  {
    name: 'no-successor'
    description: 'A ring has had no successor lined up within its renewal window (rotation_due) in every health record of the window: rotation is failing or not running.'
    severity: 2
    frequency: 'PT30M'
    window: 'PT${noSuccessorAlertHours}H'
    query: '${telemetry} | where tostring(r.event) == "health" and tostring(r.component) == "ring" | summarize due = countif(tostring(r.reasons) contains "rotation_due"), records = count() by ring = tostring(r.name) | where records >= 2 and due == records | project ring, due'
    measure: 'due'
    threshold: 0
    dimension: 'ring'
  }
  {
    name: 'fan-out-lag'
    description: 'The oldest cache instruction waiting for the fan-out is older than the threshold: front-ends get nothing new.'
    severity: 2
    frequency: 'PT5M'
    window: 'PT15M'
    query: '${telemetry} | where tostring(r.event) == "metric" and tostring(r.name) == "fan_out_lag" | summarize lag = min(todouble(r.value))'
    measure: 'lag'
    threshold: fanOutLagThresholdSeconds
    dimension: ''
  }
  {
    name: 'rejected-growing'
    description: 'The rejected queue grew over the last hour: cache instructions that can never succeed keep arriving.'
    severity: 3
    frequency: 'PT15M'
    window: 'PT1H'
    query: '${telemetry} | where tostring(r.event) == "metric" and tostring(r.name) == "rejected_messages" | extend messages = todouble(r.value) | summarize (startAt, atStart) = arg_min(timestamp, messages), (endAt, atEnd) = arg_max(timestamp, messages) | extend growth = atEnd - atStart'
    measure: 'growth'
    threshold: 0
    dimension: ''
  }
]

resource queryRules 'Microsoft.Insights/scheduledQueryRules@2026-03-01' = [
  for rule in rules: {
    name: '${namePrefix}-${rule.name}'
    location: location
    tags: tags
    kind: 'LogAlert'
    properties: {
      displayName: '${namePrefix}: ${rule.name}'
      description: rule.description
      severity: rule.severity
      enabled: true
      scopes: [appInsights.id]
      evaluationFrequency: rule.frequency
      windowSize: rule.window
      criteria: {
        allOf: [
          {
            query: rule.query
            timeAggregation: 'Maximum'
            metricMeasureColumn: rule.measure
            dimensions: empty(rule.dimension)
              ? []
              : [
                  {
                    name: rule.dimension
                    operator: 'Include'
                    values: ['*']
                  }
                ]
            operator: 'GreaterThan'
            threshold: rule.threshold
            failingPeriods: {
              numberOfEvaluationPeriods: 1
              minFailingPeriodsToAlert: 1
            }
          }
        ]
      }
      autoMitigate: true
      actions: {
        actionGroups: actionGroupIds
      }
    }
  }
]

// A platform metric of the component: every function invocation is a request, so this catches failed
// timer runs, fan-out retries and 5xx answers (including /api/health's 503) within minutes.
resource failedInvocations 'Microsoft.Insights/metricAlerts@2026-01-01' = {
  name: '${namePrefix}-failed-invocations'
  location: 'global'
  tags: tags
  properties: {
    description: 'Function invocations failed (Application Insights requests/failed).'
    severity: 2
    enabled: true
    scopes: [appInsights.id]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'failed-requests'
          metricNamespace: 'microsoft.insights/components'
          metricName: 'requests/failed'
          operator: 'GreaterThan'
          threshold: 0
          timeAggregation: 'Count'
        }
      ]
    }
    autoMitigate: true
    actions: [for id in actionGroupIds: { actionGroupId: id }]
  }
}

@description('The names of the alert rules.')
output alertRuleNames string[] = concat(map(rules, rule => '${namePrefix}-${rule.name}'), [failedInvocations.name])

@description('The resource ID of the action group the rules notify (empty when none).')
output actionGroupResourceId string = createActionGroup ? actionGroup.id : actionGroupResourceId
