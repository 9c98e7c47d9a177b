<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en" sourcelanguage="zh_CN">
<context>
    <name>AdminMenu</name>
    <message>
        <source>管理</source>
        <translation>Admin</translation>
    </message>
    <message>
        <source>回到首页</source>
        <translation>Home</translation>
    </message>
    <message>
        <source>使用记录</source>
        <translation>Usage log</translation>
    </message>
    <message>
        <source>统计报表</source>
        <translation>Reports</translation>
    </message>
    <message>
        <source>设备检查</source>
        <translation>Device check</translation>
    </message>
    <message>
        <source>退出自助模式</source>
        <translation>Leave kiosk mode</translation>
    </message>
    <message>
        <source>确定退出自助模式吗？</source>
        <translation>Leave kiosk mode?</translation>
    </message>
    <message>
        <source>程序将关闭，屏幕回到电脑桌面。关闭期间群众无法呼叫手语翻译员。</source>
        <translation>The app will close and the computer desktop will show. Nobody can call an interpreter until it runs again.</translation>
    </message>
    <message>
        <source>不退出</source>
        <translation>Stay</translation>
    </message>
    <message>
        <source>退出</source>
        <translation>Leave</translation>
    </message>
</context>
<context>
    <name>AdminScreen</name>
    <message>
        <source>管理</source>
        <translation>Admin</translation>
    </message>
</context>
<context>
    <name>CallScreen</name>
    <message>
        <source>通话中</source>
        <translation>In call</translation>
    </message>
    <message>
        <source>手语翻译员的画面</source>
        <translation>The sign language interpreter</translation>
    </message>
    <message>
        <source>摄像头断开了，翻译员暂时看不到您。请告诉工作人员。</source>
        <translation>The camera is off. The interpreter cannot see you. Please tell the staff.</translation>
    </message>
    <message>
        <source>您自己</source>
        <translation>You</translation>
    </message>
    <message>
        <source>通话 %1</source>
        <translation>Call %1</translation>
    </message>
    <message>
        <source>连接良好</source>
        <translation>Good connection</translation>
    </message>
    <message>
        <source>连接一般</source>
        <translation>Fair connection</translation>
    </message>
    <message>
        <source>连接较差</source>
        <translation>Poor connection</translation>
    </message>
    <message>
        <source>画面可能不够流畅</source>
        <translation>The picture may be jerky</translation>
    </message>
    <message>
        <source>文字</source>
        <translation>Text</translation>
    </message>
    <message>
        <source>结束通话</source>
        <translation>End call</translation>
    </message>
</context>
<context>
    <name>Category</name>
    <message>
        <source>社保</source>
        <translation>Social insurance</translation>
    </message>
    <message>
        <source>医疗</source>
        <translation>Health care</translation>
    </message>
    <message>
        <source>民政</source>
        <translation>Civil affairs</translation>
    </message>
    <message>
        <source>企业登记</source>
        <translation>Business registration</translation>
    </message>
    <message>
        <source>其他</source>
        <translation>Other</translation>
    </message>
    <message>
        <source>其它</source>
        <translation>Other</translation>
    </message>
    <message>
        <source>户籍</source>
        <translation>Residence</translation>
    </message>
    <message>
        <source>税务</source>
        <translation>Taxes</translation>
    </message>
    <message>
        <source>住房</source>
        <translation>Housing</translation>
    </message>
    <message>
        <source>就业</source>
        <translation>Employment</translation>
    </message>
    <message>
        <source>残疾人服务</source>
        <translation>Disability services</translation>
    </message>
</context>
<context>
    <name>ChoiceOverlay</name>
    <message>
        <source>取消</source>
        <translation>Cancel</translation>
    </message>
</context>
<context>
    <name>ConnectingScreen</name>
    <message>
        <source>正在排队，请稍等</source>
        <translation>In the queue, please wait</translation>
    </message>
    <message>
        <source>翻译员马上接听</source>
        <translation>An interpreter will answer soon</translation>
    </message>
    <message>
        <source>翻译员已接听，正在接通视频</source>
        <translation>The interpreter answered. Starting video</translation>
    </message>
    <message>
        <source>正在联系翻译中心</source>
        <translation>Calling the interpreting centre</translation>
    </message>
    <message>
        <source>下一位就是您</source>
        <translation>You are next</translation>
    </message>
    <message>
        <source>您前面还有 %1 位</source>
        <translation>%1 people before you</translation>
    </message>
    <message>
        <source>预计等待约 %1 分钟</source>
        <translation>About %1 min wait</translation>
    </message>
    <message>
        <source>已等待 %1</source>
        <translation>Waiting %1</translation>
    </message>
    <message>
        <source>取消</source>
        <translation>Cancel</translation>
    </message>
</context>
<context>
    <name>DeviceCheckScreen</name>
    <message>
        <source>检查中…</source>
        <translation>Checking…</translation>
    </message>
    <message>
        <source>✓ 正常</source>
        <translation>✓ Works</translation>
    </message>
    <message>
        <source>✗ 有问题</source>
        <translation>✗ Problem</translation>
    </message>
    <message>
        <source>回声消除</source>
        <translation>echo cancellation</translation>
    </message>
    <message>
        <source>降噪</source>
        <translation>noise suppression</translation>
    </message>
    <message>
        <source>高通滤波</source>
        <translation>high-pass filter</translation>
    </message>
    <message>
        <source>声音处理不可用（见日志）</source>
        <translation>Audio processing unavailable (see the log)</translation>
    </message>
    <message>
        <source>已开启：%1</source>
        <translation>On: %1</translation>
    </message>
    <message>
        <source>声音处理已关闭</source>
        <translation>Audio processing off</translation>
    </message>
    <message>
        <source>设备检查</source>
        <translation>Device check</translation>
    </message>
    <message>
        <source>完成</source>
        <translation>Done</translation>
    </message>
    <message>
        <source>摄像头</source>
        <translation>Camera</translation>
    </message>
    <message>
        <source>每秒 %1 帧</source>
        <translation>%1 frames a second</translation>
    </message>
    <message>
        <source>麦克风</source>
        <translation>Microphone</translation>
    </message>
    <message>
        <source>请对着麦克风说话</source>
        <translation>Speak into the microphone</translation>
    </message>
    <message>
        <source>%1 dB</source>
        <translation>%1 dB</translation>
    </message>
    <message>
        <source>发出 %1 dB，处理前 %2 dB</source>
        <translation>Sent %1 dB, before processing %2 dB</translation>
    </message>
    <message>
        <source>扬声器</source>
        <translation>Speaker</translation>
    </message>
    <message>
        <source>正在播放测试音…</source>
        <translation>Playing a test tone…</translation>
    </message>
    <message>
        <source>播放测试音，听到了吗？</source>
        <translation>Play a test tone. Did you hear it?</translation>
    </message>
    <message>
        <source>播放</source>
        <translation>Play</translation>
    </message>
    <message>
        <source>听到了</source>
        <translation>Heard</translation>
    </message>
    <message>
        <source>没听到</source>
        <translation>Not heard</translation>
    </message>
    <message>
        <source>翻译中心连接</source>
        <translation>Interpreting centre</translation>
    </message>
    <message>
        <source>往返 %1 毫秒</source>
        <translation>Round trip %1 ms</translation>
    </message>
    <message>
        <source>再检查一次</source>
        <translation>Check again</translation>
    </message>
</context>
<context>
    <name>HowItWorks</name>
    <message>
        <source>点大按钮</source>
        <translation>Tap the big button</translation>
    </message>
    <message>
        <source>稍等一下</source>
        <translation>Wait a moment</translation>
    </message>
    <message>
        <source>翻译员出现，和您打手语</source>
        <translation>The interpreter appears and signs with you</translation>
    </message>
    <message>
        <source>点一张脸，说说满不满意</source>
        <translation>Show how it went with a face</translation>
    </message>
    <message>
        <source>怎么用</source>
        <translation>How it works</translation>
    </message>
</context>
<context>
    <name>LanguageSwitch</name>
    <message>
        <source>切换语言</source>
        <translation>Change language</translation>
    </message>
</context>
<context>
    <name>Main</name>
    <message>
        <source>手语翻译服务</source>
        <translation>Sign Language Interpreting</translation>
    </message>
</context>
<context>
    <name>NoticeScreen</name>
    <message>
        <source>现在没有空闲的手语翻译员</source>
        <translation>No sign language interpreter is free now</translation>
    </message>
    <message>
        <source>现在不是手语翻译服务时间</source>
        <translation>The interpreting service is closed now</translation>
    </message>
    <message>
        <source>手语翻译员暂时无法接听</source>
        <translation>The interpreter cannot answer now</translation>
    </message>
    <message>
        <source>暂时联系不上翻译中心</source>
        <translation>The interpreting centre cannot be reached</translation>
    </message>
    <message>
        <source>视频连接断开了</source>
        <translation>The video call was cut off</translation>
    </message>
    <message>
        <source>摄像头或麦克风出了问题</source>
        <translation>The camera or microphone has a problem</translation>
    </message>
    <message>
        <source>通话没有接通</source>
        <translation>The call did not go through</translation>
    </message>
    <message>
        <source>下次服务时间：%1。请向工作人员求助。</source>
        <translation>Open again: %1. Please ask the staff for help.</translation>
    </message>
    <message>
        <source>请向工作人员求助。</source>
        <translation>Please ask the staff for help.</translation>
    </message>
    <message>
        <source>请告诉工作人员。</source>
        <translation>Please tell the staff.</translation>
    </message>
    <message>
        <source>请再点一次，重新联系翻译员。</source>
        <translation>Tap again to call an interpreter.</translation>
    </message>
    <message>
        <source>请稍后再试，或请工作人员帮忙。</source>
        <translation>Please try again later, or ask the staff.</translation>
    </message>
    <message>
        <source>知道了</source>
        <translation>OK</translation>
    </message>
    <message>
        <source>%1 秒后回到首页</source>
        <translation>Home in %1 s</translation>
    </message>
</context>
<context>
    <name>OutOfHours</name>
    <message>
        <source>星期一</source>
        <translation>Monday</translation>
    </message>
    <message>
        <source>星期二</source>
        <translation>Tuesday</translation>
    </message>
    <message>
        <source>星期三</source>
        <translation>Wednesday</translation>
    </message>
    <message>
        <source>星期四</source>
        <translation>Thursday</translation>
    </message>
    <message>
        <source>星期五</source>
        <translation>Friday</translation>
    </message>
    <message>
        <source>星期六</source>
        <translation>Saturday</translation>
    </message>
    <message>
        <source>星期日</source>
        <translation>Sunday</translation>
    </message>
    <message>
        <source>还没有设定服务时间，请问工作人员。</source>
        <translation>No service hours are set. Please ask the staff.</translation>
    </message>
    <message>
        <source>今天 %1 再开始服务</source>
        <translation>Opens again today at %1</translation>
    </message>
    <message>
        <source>明天 %1 再开始服务</source>
        <translation>Opens again tomorrow at %1</translation>
    </message>
    <message>
        <source>%1（%2）%3 再开始服务</source>
        <translation>Opens again on %1 (%2) at %3</translation>
    </message>
    <message>
        <source>文字热线</source>
        <translation>Text hotline</translation>
    </message>
    <message>
        <source>短信</source>
        <translation>SMS</translation>
    </message>
    <message>
        <source>网站</source>
        <translation>Website</translation>
    </message>
    <message>
        <source>电子邮件</source>
        <translation>E-mail</translation>
    </message>
    <message>
        <source>微信</source>
        <translation>WeChat</translation>
    </message>
    <message>
        <source>现在不是手语翻译服务时间</source>
        <translation>The interpreting service is closed now</translation>
    </message>
    <message>
        <source>这段时间您可以这样联系我们：</source>
        <translation>Until then you can reach us by:</translation>
    </message>
</context>
<context>
    <name>PeriodBar</name>
    <message>
        <source>上一段</source>
        <translation>Previous period</translation>
    </message>
    <message>
        <source>时间</source>
        <translation>Period</translation>
    </message>
    <message>
        <source>全部</source>
        <translation>All</translation>
    </message>
    <message>
        <source>%1 · %2</source>
        <translation>%1 · %2</translation>
    </message>
    <message>
        <source>下一段</source>
        <translation>Next period</translation>
    </message>
</context>
<context>
    <name>PinPad</name>
    <message>
        <source>管理员</source>
        <translation>Administrator</translation>
    </message>
    <message>
        <source>回到首页</source>
        <translation>Home</translation>
    </message>
    <message>
        <source>还没有设置管理密码</source>
        <translation>No admin PIN is set yet</translation>
    </message>
    <message>
        <source>管理功能需要先设置密码（4 到 12 位数字）。请技术人员在这台终端的命令行运行：</source>
        <translation>The admin area needs a PIN (4 to 12 digits) first. A technician sets it on this terminal&apos;s command line with:</translation>
    </message>
    <message>
        <source>请输入管理密码</source>
        <translation>Enter the admin PIN</translation>
    </message>
    <message>
        <source>正在验证……</source>
        <translation>Checking…</translation>
    </message>
    <message>
        <source>密码不对。再错 %1 次，密码键盘将暂时锁定。</source>
        <translation>Wrong PIN. %1 more wrong tries lock the keypad for a while.</translation>
    </message>
    <message>
        <source>错误次数太多，请 %1 后再试。</source>
        <translation>Too many wrong tries. Try again in %1.</translation>
    </message>
    <message>
        <source>密码至少 4 位数字。</source>
        <translation>The PIN has at least 4 digits.</translation>
    </message>
    <message>
        <source>暂时无法验证密码，请再试一次。</source>
        <translation>The PIN could not be checked. Please try again.</translation>
    </message>
    <message>
        <source>确定</source>
        <translation>OK</translation>
    </message>
    <message>
        <source>删除</source>
        <translation>Delete</translation>
    </message>
</context>
<context>
    <name>RatingScreen</name>
    <message>
        <source>非常满意</source>
        <translation>Very good</translation>
    </message>
    <message>
        <source>满意</source>
        <translation>Good</translation>
    </message>
    <message>
        <source>基本满意</source>
        <translation>OK</translation>
    </message>
    <message>
        <source>不满意</source>
        <translation>Bad</translation>
    </message>
    <message>
        <source>非常不满意</source>
        <translation>Very bad</translation>
    </message>
    <message>
        <source>您对这次手语翻译满意吗？</source>
        <translation>How was the interpreting?</translation>
    </message>
    <message>
        <source>点一个表情</source>
        <translation>Tap a face</translation>
    </message>
    <message>
        <source>%1 秒后回到首页</source>
        <translation>Home in %1 s</translation>
    </message>
    <message>
        <source>不评价</source>
        <translation>Skip</translation>
    </message>
</context>
<context>
    <name>ReconnectingOverlay</name>
    <message>
        <source>画面中断，正在重新连接……</source>
        <translation>The picture stopped. Reconnecting…</translation>
    </message>
    <message>
        <source>翻译员还在通话中，请稍等。</source>
        <translation>The interpreter is still in this call. Please wait a moment.</translation>
    </message>
    <message numerus="yes">
        <source>已经尝试 %n 秒</source>
        <translation>
            <numerusform>Trying for %n second</numerusform>
            <numerusform>Trying for %n seconds</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ReportCharts</name>
    <message>
        <source>%1秒</source>
        <translation>%1 s</translation>
    </message>
    <message>
        <source>%1分</source>
        <translation>%1 min</translation>
    </message>
    <message>
        <source>≤%1</source>
        <translation>≤%1</translation>
    </message>
    <message>
        <source>%1–%2秒</source>
        <translation>%1–%2 s</translation>
    </message>
    <message>
        <source>%1–%2分</source>
        <translation>%1–%2 min</translation>
    </message>
    <message>
        <source>&gt;%1</source>
        <translation>&gt;%1</translation>
    </message>
    <message>
        <source>每月会话数</source>
        <translation>Sessions per month</translation>
    </message>
    <message>
        <source>每日会话数</source>
        <translation>Sessions per day</translation>
    </message>
    <message>
        <source>接通</source>
        <translation>Answered</translation>
    </message>
    <message>
        <source>未接通</source>
        <translation>Not answered</translation>
    </message>
    <message>
        <source>等待多久接通</source>
        <translation>Wait until answered</translation>
    </message>
    <message>
        <source>30 秒内</source>
        <translation>Within 30 s</translation>
    </message>
    <message>
        <source>超过 30 秒</source>
        <translation>Over 30 s</translation>
    </message>
</context>
<context>
    <name>ReportPage</name>
    <message>
        <source>%1%</source>
        <translation>%1%</translation>
    </message>
    <message>
        <source>返回</source>
        <translation>Back</translation>
    </message>
    <message>
        <source>统计报表</source>
        <translation>Reports</translation>
    </message>
    <message>
        <source>导出 CSV</source>
        <translation>Export CSV</translation>
    </message>
    <message>
        <source>导出 Excel</source>
        <translation>Export Excel</translation>
    </message>
    <message>
        <source>正在统计……</source>
        <translation>Counting…</translation>
    </message>
    <message>
        <source>报表暂时无法生成，请稍后再试。</source>
        <translation>The report could not be made. Please try again later.</translation>
    </message>
    <message>
        <source>%1（已结束的会话）</source>
        <translation>%1 (finished sessions)</translation>
    </message>
    <message>
        <source>会话</source>
        <translation>Sessions</translation>
    </message>
    <message>
        <source>工作人员发起 %1</source>
        <translation>By staff %1</translation>
    </message>
    <message>
        <source>接通率</source>
        <translation>Answered</translation>
    </message>
    <message>
        <source>放弃 %1</source>
        <translation>Given up %1</translation>
    </message>
    <message>
        <source>30 秒内接通</source>
        <translation>Within 30 s</translation>
    </message>
    <message>
        <source>占全部会话</source>
        <translation>of all sessions</translation>
    </message>
    <message>
        <source>等待中位数</source>
        <translation>Median wait</translation>
    </message>
    <message>
        <source>90% 不超过 %1</source>
        <translation>90% within %1</translation>
    </message>
    <message>
        <source>平均通话</source>
        <translation>Average call</translation>
    </message>
    <message>
        <source>分:秒</source>
        <translation>min:s</translation>
    </message>
    <message>
        <source>满意率</source>
        <translation>Satisfied</translation>
    </message>
    <message>
        <source>%1 人评价</source>
        <translation>%1 ratings</translation>
    </message>
    <message>
        <source>这段时间没有已结束的会话</source>
        <translation>No finished sessions in this period</translation>
    </message>
    <message>
        <source>正在导出……</source>
        <translation>Exporting…</translation>
    </message>
    <message>
        <source>导出失败，请检查数据文件夹是否可写。</source>
        <translation>Export failed. Check that the data folder can be written.</translation>
    </message>
    <message>
        <source>已保存：%1</source>
        <translation>Saved: %1</translation>
    </message>
    <message>
        <source>按什么时间段统计？</source>
        <translation>Which period?</translation>
    </message>
</context>
<context>
    <name>SessionDetails</name>
    <message>
        <source>没有记录到通话质量。</source>
        <translation>No call quality was recorded.</translation>
    </message>
    <message>
        <source>这次没有接通视频，没有通话质量数据。</source>
        <translation>The video never started, so there is no call quality.</translation>
    </message>
    <message>
        <source>总体：%1。</source>
        <translation>Overall: %1.</translation>
    </message>
    <message>
        <source>翻译员的画面：每秒约 %1 帧，最低 %2 帧。</source>
        <translation>Interpreter&apos;s picture: about %1 frames a second, lowest %2.</translation>
    </message>
    <message>
        <source>本机发出的画面：每秒约 %1 帧，最低 %2 帧。</source>
        <translation>This kiosk&apos;s picture: about %1 frames a second, lowest %2.</translation>
    </message>
    <message>
        <source>有 %1 秒低于每秒 20 帧，手语可能看不清。</source>
        <translation>%1 s under 20 frames a second: signing may have been hard to read.</translation>
    </message>
    <message>
        <source>丢包：约 %1%，最多 %2%。</source>
        <translation>Packet loss: about %1%, at most %2%.</translation>
    </message>
    <message>
        <source>网络往返延迟：约 %1 毫秒，最长 %2 毫秒。</source>
        <translation>Network round trip: about %1 ms, at most %2 ms.</translation>
    </message>
    <message>
        <source>带宽：收约 %1 kbps，发约 %2 kbps。</source>
        <translation>Bandwidth: about %1 kbps in, %2 kbps out.</translation>
    </message>
    <message>
        <source>为保持流畅，画面曾缩小到原来的 %1%。</source>
        <translation>To stay smooth the picture was scaled down to %1%.</translation>
    </message>
    <message>
        <source>点击时间</source>
        <translation>Tapped at</translation>
    </message>
    <message>
        <source>发起</source>
        <translation>Started by</translation>
    </message>
    <message>
        <source>事项</source>
        <translation>Matter</translation>
    </message>
    <message>
        <source>翻译员接听</source>
        <translation>Interpreter answered</translation>
    </message>
    <message>
        <source>视频接通</source>
        <translation>Video started</translation>
    </message>
    <message>
        <source>结束时间</source>
        <translation>Ended at</translation>
    </message>
    <message>
        <source>等待时长</source>
        <translation>Wait</translation>
    </message>
    <message>
        <source>通话时长</source>
        <translation>Call length</translation>
    </message>
    <message>
        <source>结束原因</source>
        <translation>End reason</translation>
    </message>
    <message>
        <source>由谁结束</source>
        <translation>Ended by</translation>
    </message>
    <message>
        <source>最后状态</source>
        <translation>Last state</translation>
    </message>
    <message>
        <source>翻译员编号</source>
        <translation>Interpreter</translation>
    </message>
    <message>
        <source>评价</source>
        <translation>Rating</translation>
    </message>
    <message>
        <source>未评价（跳过）</source>
        <translation>Not rated (skipped)</translation>
    </message>
    <message>
        <source>未评价</source>
        <translation>Not rated</translation>
    </message>
    <message>
        <source>评价时间</source>
        <translation>Rated at</translation>
    </message>
    <message>
        <source>终端编号</source>
        <translation>Kiosk</translation>
    </message>
    <message>
        <source>软件版本</source>
        <translation>Software version</translation>
    </message>
    <message>
        <source>会话编号</source>
        <translation>Session</translation>
    </message>
    <message>
        <source>会话详情</source>
        <translation>Session details</translation>
    </message>
    <message>
        <source>返回列表</source>
        <translation>Back to the list</translation>
    </message>
    <message>
        <source>通话质量</source>
        <translation>Call quality</translation>
    </message>
    <message>
        <source>经过</source>
        <translation>Steps</translation>
    </message>
</context>
<context>
    <name>StaffScreen</name>
    <message>
        <source>工作人员发起翻译</source>
        <translation>Staff: start a session</translation>
    </message>
    <message>
        <source>请选择要办理的事项，选好后马上联系翻译员。</source>
        <translation>Pick the matter. The interpreter is called at once.</translation>
    </message>
    <message>
        <source>关闭</source>
        <translation>Close</translation>
    </message>
</context>
<context>
    <name>TextPanel</name>
    <message>
        <source>显示视频</source>
        <translation>Show video</translation>
    </message>
    <message>
        <source>只用文字</source>
        <translation>Text only</translation>
    </message>
    <message>
        <source>收起文字</source>
        <translation>Hide text</translation>
    </message>
    <message>
        <source>翻译员写的：</source>
        <translation>Interpreter writes:</translation>
    </message>
    <message>
        <source>您写的（翻译员能看到每个字）：</source>
        <translation>You write (the interpreter sees each letter):</translation>
    </message>
</context>
<context>
    <name>UsageLog</name>
    <message>
        <source>全部</source>
        <translation>All</translation>
    </message>
    <message>
        <source>返回</source>
        <translation>Back</translation>
    </message>
    <message>
        <source>使用记录</source>
        <translation>Usage log</translation>
    </message>
    <message>
        <source>正在读取……</source>
        <translation>Loading…</translation>
    </message>
    <message>
        <source>最近 %1 条</source>
        <translation>Latest %1</translation>
    </message>
    <message>
        <source>共 %1 条</source>
        <translation>%1 in all</translation>
    </message>
    <message>
        <source>结束原因</source>
        <translation>End reason</translation>
    </message>
    <message>
        <source>事项</source>
        <translation>Matter</translation>
    </message>
    <message>
        <source>发起</source>
        <translation>Started by</translation>
    </message>
    <message>
        <source>时间</source>
        <translation>Time</translation>
    </message>
    <message>
        <source>等待</source>
        <translation>Wait</translation>
    </message>
    <message>
        <source>通话</source>
        <translation>Call</translation>
    </message>
    <message>
        <source>评价</source>
        <translation>Rating</translation>
    </message>
    <message>
        <source>这段时间没有符合条件的记录</source>
        <translation>No matching sessions in this period</translation>
    </message>
    <message>
        <source>按什么时间段查看？</source>
        <translation>Which period?</translation>
    </message>
    <message>
        <source>由谁发起</source>
        <translation>Started by</translation>
    </message>
</context>
<context>
    <name>WelcomeScreen</name>
    <message>
        <source>工作人员</source>
        <translation>Staff</translation>
    </message>
    <message>
        <source>手语翻译服务</source>
        <translation>Sign Language Interpreting</translation>
    </message>
    <message>
        <source>点这里
联系手语翻译员</source>
        <translation>Tap here
for an interpreter</translation>
    </message>
    <message>
        <source>点一下，手语翻译员就会出现在屏幕上。</source>
        <translation>One tap, and an interpreter appears on the screen.</translation>
    </message>
    <message>
        <source>摄像头暂时不能用，翻译员看不到您。请告诉工作人员。</source>
        <translation>The camera does not work. The interpreter cannot see you. Please tell the staff.</translation>
    </message>
    <message>
        <source>麦克风暂时不能用，翻译员听不到工作人员。请告诉工作人员。</source>
        <translation>The microphone does not work. The interpreter cannot hear the staff. Please tell the staff.</translation>
    </message>
    <message>
        <source>扬声器暂时不能用，听不到翻译员的声音。请告诉工作人员。</source>
        <translation>The speaker does not work. The interpreter&apos;s voice cannot be heard. Please tell the staff.</translation>
    </message>
    <message>
        <source>正在连接翻译中心……</source>
        <translation>Connecting to the interpreting centre…</translation>
    </message>
</context>
<context>
    <name>Words</name>
    <message>
        <source>正常结束</source>
        <translation>Completed</translation>
    </message>
    <message>
        <source>呼叫方取消</source>
        <translation>Cancelled by caller</translation>
    </message>
    <message>
        <source>没有空闲翻译员</source>
        <translation>No interpreter free</translation>
    </message>
    <message>
        <source>非服务时间</source>
        <translation>Out of hours</translation>
    </message>
    <message>
        <source>翻译员未接听</source>
        <translation>Not answered</translation>
    </message>
    <message>
        <source>联系不上翻译中心</source>
        <translation>Centre unreachable</translation>
    </message>
    <message>
        <source>连接中断</source>
        <translation>Connection lost</translation>
    </message>
    <message>
        <source>设备故障</source>
        <translation>Device fault</translation>
    </message>
    <message>
        <source>程序意外中断</source>
        <translation>App interrupted</translation>
    </message>
    <message>
        <source>进行中</source>
        <translation>In progress</translation>
    </message>
    <message>
        <source>群众自助</source>
        <translation>Resident</translation>
    </message>
    <message>
        <source>工作人员</source>
        <translation>Staff</translation>
    </message>
    <message>
        <source>本机</source>
        <translation>Kiosk</translation>
    </message>
    <message>
        <source>翻译员</source>
        <translation>Interpreter</translation>
    </message>
    <message>
        <source>翻译中心</source>
        <translation>Centre</translation>
    </message>
    <message>
        <source>系统</source>
        <translation>System</translation>
    </message>
    <message>
        <source>非常满意</source>
        <translation>Very good</translation>
    </message>
    <message>
        <source>满意</source>
        <translation>Good</translation>
    </message>
    <message>
        <source>基本满意</source>
        <translation>OK</translation>
    </message>
    <message>
        <source>不满意</source>
        <translation>Bad</translation>
    </message>
    <message>
        <source>非常不满意</source>
        <translation>Very bad</translation>
    </message>
    <message>
        <source>未评价</source>
        <translation>Not rated</translation>
    </message>
    <message>
        <source>发起呼叫</source>
        <translation>Calling</translation>
    </message>
    <message>
        <source>排队</source>
        <translation>Queued</translation>
    </message>
    <message>
        <source>振铃</source>
        <translation>Ringing</translation>
    </message>
    <message>
        <source>已接听，接通视频</source>
        <translation>Answered, starting video</translation>
    </message>
    <message>
        <source>通话中</source>
        <translation>In call</translation>
    </message>
    <message>
        <source>重新连接</source>
        <translation>Reconnecting</translation>
    </message>
    <message>
        <source>结束</source>
        <translation>Ended</translation>
    </message>
    <message>
        <source>日</source>
        <translation>Day</translation>
    </message>
    <message>
        <source>周</source>
        <translation>Week</translation>
    </message>
    <message>
        <source>月</source>
        <translation>Month</translation>
    </message>
    <message>
        <source>年</source>
        <translation>Year</translation>
    </message>
    <message>
        <source>全部</source>
        <translation>All</translation>
    </message>
    <message>
        <source>未分类</source>
        <translation>No matter</translation>
    </message>
    <message>
        <source>良好</source>
        <translation>Good</translation>
    </message>
    <message>
        <source>一般</source>
        <translation>Fair</translation>
    </message>
    <message>
        <source>较差</source>
        <translation>Poor</translation>
    </message>
</context>
</TS>
